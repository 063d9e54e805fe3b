"""The Tryton ERP started by the local stack: seeded over JSON-RPC-visible data that matches the
PrestaShop demo catalogue (deploy/prestashop/demo_data.sql) and <stack dir>/tryton/catalogue.json."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pymysql
import pymysql.cursors
import pytest

from pssync import devstack
from pssync.devstack.tryton import catalogue_path

pytestmark = pytest.mark.integration


def _decode(obj: dict[str, Any]) -> Any:
    if obj.get("__class__") == "Decimal":
        return Decimal(obj["decimal"])
    return obj


class JsonRpc:
    """Just enough of Tryton's JSON-RPC for these checks (trytond 8.x: POST /<db>/rpc/)."""

    def __init__(self, url: str, database: str) -> None:
        self.endpoint = f"{url}/{database}/rpc/"
        self.http = httpx.Client(timeout=30.0)
        self.session: str | None = None
        self.context: dict[str, Any] = {}
        self._id = 0

    def _post(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        headers = {"Authorization": f"Session {self.session}"} if self.session else {}
        response = self.http.post(self.endpoint, json={"id": self._id, "method": method, "params": params},
                                  headers=headers)
        response.raise_for_status()
        body = json.loads(response.text, object_hook=_decode)
        if body.get("error"):
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def login(self, user: str, password: str) -> None:
        user_id, token = self._post("common.db.login", [user, {"password": password}, "en"])[:2]
        self.session = base64.b64encode(f"{user}:{user_id}:{token}".encode()).decode()
        self.context = self._post("model.res.user.get_preferences", [True, {}])

    def model(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        return self._post(f"model.{model}.{method}", [*args, {**self.context, **(context or {})}])

    def search_read(self, model: str, domain: list[Any], fields: list[str],
                    context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.model(model, "search_read", domain, 0, None, None, fields, context=context)

    def close(self) -> None:
        try:
            if self.session:
                self._post("common.db.logout", [])
        finally:
            self.http.close()


@pytest.fixture(scope="module")
def rpc(stack: devstack.StackSettings) -> Iterator[JsonRpc]:
    client = JsonRpc(stack.tryton_url, stack.tryton_database)
    client.login(stack.tryton_user, stack.tryton_password)
    yield client
    client.close()


@pytest.fixture(scope="module")
def catalogue(stack: devstack.StackSettings) -> list[dict[str, Any]]:
    return json.loads(catalogue_path(stack).read_text())


@pytest.fixture(scope="module")
def prestashop(stack: devstack.StackSettings) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The demo data as loaded from the fixtures into a private database (the stack's own shop
    database may have been changed by other tests)."""
    database = f"pssync_test_{uuid.uuid4().hex[:10]}"
    devstack.load_prestashop_fixtures(stack.mysql_params(), database, "ps_")
    conn = pymysql.connect(**stack.mysql_params(database), cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            data = {}
            for name, sql in {
                "products": "SELECT id_product, reference, price, product_type FROM ps_product",
                "combinations": "SELECT id_product_attribute, id_product, price FROM ps_product_attribute",
                "stock": "SELECT id_product, id_product_attribute, quantity FROM ps_stock_available "
                         "WHERE id_shop = 1",
                "customers": "SELECT id_customer, firstname, lastname FROM ps_customer",
            }.items():
                cur.execute(sql)
                data[name] = list(cur.fetchall())
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        conn.close()
    yield data


def expected_codes(prestashop: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[int, int]]:
    """erp code -> (id_product, id_product_attribute) by the SKU convention."""
    references = {row["id_product"]: row["reference"] for row in prestashop["products"]}
    codes = {f"{references[row['id_product']]}-{row['id_product_attribute']}":
             (row["id_product"], row["id_product_attribute"]) for row in prestashop["combinations"]}
    with_combinations = {row["id_product"] for row in prestashop["combinations"]}
    for id_product, reference in references.items():
        if id_product not in with_combinations:
            codes[reference] = (id_product, 0)
    return codes


def warehouse(rpc: JsonRpc) -> dict[str, Any]:
    found, = rpc.search_read("stock.location", [["type", "=", "warehouse"]], ["id", "code", "storage_location"])
    return found


def test_templates_and_variants_follow_the_sku_convention(rpc: JsonRpc, prestashop: Any) -> None:
    # tests of the ERP adapter add products of their own, coded test_*: only the seed is checked here
    templates = rpc.search_read("product.template", [("code", "like", "demo_%")], ["code", "type", "salable", "list_price",
                                                         "default_uom.name"])
    assert len(prestashop["products"]) == 19
    assert sorted(t["code"] for t in templates) == sorted(p["reference"] for p in prestashop["products"])
    assert {t["type"] for t in templates} == {"goods"}
    assert all(t["salable"] and t["default_uom."]["name"] == "Unit" for t in templates)

    variants = rpc.search_read("product.product", [("code", "like", "demo_%")],
                               ["code", "suffix_code", "template.code"])
    codes = expected_codes(prestashop)
    assert len(variants) == len(codes) == 47
    assert {v["code"] for v in variants} == set(codes)
    for variant in variants:
        id_product, id_attribute = codes[variant["code"]]
        assert variant["suffix_code"] == (f"-{id_attribute}" if id_attribute else "")
        assert variant["template."]["code"] + variant["suffix_code"] == variant["code"]


def test_catalogue_json_maps_every_prestashop_row(rpc: JsonRpc, catalogue: list[dict[str, Any]],
                                                  prestashop: Any) -> None:
    codes = expected_codes(prestashop)
    assert {(e["id_product"], e["id_product_attribute"]) for e in catalogue} == set(codes.values())
    by_id = {v["id"]: v["code"] for v in rpc.search_read("product.product", [], ["code"])}
    for entry in catalogue:
        assert set(entry) >= {"id_product", "id_product_attribute", "reference", "erp_code",
                              "erp_product_id", "quantity", "list_price"}
        assert by_id[entry["erp_product_id"]] == entry["erp_code"]
        assert codes[entry["erp_code"]] == (entry["id_product"], entry["id_product_attribute"])


def test_quantities_match_prestashop_stock(rpc: JsonRpc, catalogue: list[dict[str, Any]], prestashop: Any) -> None:
    stock = {(r["id_product"], r["id_product_attribute"]): r["quantity"] for r in prestashop["stock"]}
    sample = {e["erp_code"]: e for e in catalogue
              if e["erp_code"] in {"demo_1-1", "demo_1-8", "demo_3-12", "demo_6-15", "demo_11", "demo_18",
                                   "demo_21", "demo_8-29", "demo_14"}}
    assert len(sample) == 9
    location = warehouse(rpc)
    # Quantities need a `locations` context: the warehouse (children included) or its storage.
    # A bare `warehouse` context gives 0 for product.product.
    for where in ([location["id"]], [location["storage_location"]]):
        rows = rpc.search_read("product.product", [["code", "in", sorted(sample)]],
                               ["code", "quantity", "forecast_quantity"], context={"locations": where})
        assert len(rows) == len(sample)
        for row in rows:
            entry = sample[row["code"]]
            expected = stock[(entry["id_product"], entry["id_product_attribute"])]
            assert row["quantity"] == entry["quantity"] == expected, (where, row)


def test_list_prices_match_prestashop(rpc: JsonRpc, catalogue: list[dict[str, Any]], prestashop: Any) -> None:
    price = {row["id_product"]: row["price"] for row in prestashop["products"]}
    impact = {row["id_product_attribute"]: row["price"] for row in prestashop["combinations"]}
    rows = {row["code"]: row for row in rpc.search_read(
        "product.product", [], ["code", "list_price_used", "template.list_price"])}
    assert all(isinstance(row["list_price_used"], Decimal) for row in rows.values())
    for entry in catalogue:
        row = rows[entry["erp_code"]]
        expected = price[entry["id_product"]] + impact.get(entry["id_product_attribute"], Decimal(0))
        assert row["template."]["list_price"] == price[entry["id_product"]]
        assert row["list_price_used"] == expected == Decimal(entry["list_price"]), entry
    assert rows["demo_6-15"]["list_price_used"] == Decimal("79")   # 29.00 + 50.00 impact


def test_customer_party_exists(rpc: JsonRpc, prestashop: Any) -> None:
    customer, = prestashop["customers"]
    party, = rpc.search_read("party.party", [["code", "=", f"PS-CUST-{customer['id_customer']}"]],
                             ["name", "addresses.city", "addresses.postal_code", "addresses.country.code"])
    assert party["name"] == "John DOE" == f"{customer['firstname']} {customer['lastname']}"
    addresses = {(a["city"], a["postal_code"], a["country."]["code"]) for a in party["addresses."]}
    assert addresses == {("Paris", "75002", "FR"), ("Miami", "33133", "US")}
