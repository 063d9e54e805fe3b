"""The PrestaShop demo catalogue and customers, read from deploy/prestashop/demo_data.sql.

The fixtures are loaded into a scratch MariaDB database (`pssync_seed_<hex>`, dropped afterwards)
and queried, so the Tryton seed never duplicates the catalogue by hand. The result travels to the
seeding process (devstack.tryton_seed) as JSON.

SKU convention (the ERP side of the mapping): template `code` = PrestaShop `reference`; one
variant per combination with `suffix_code` = `-<id_product_attribute>` (full code `demo_1-1`);
a product without combinations gets one variant with an empty suffix (code = reference).
"""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from .prestashop import load_prestashop_fixtures
from .settings import StackSettings

log = logging.getLogger("devstack")

# PrestaShop installer ids (install-dev/data/xml/country.xml, state.xml) of the countries and
# states the demo addresses use; ps_country/ps_state are not part of the fixtures.
PRESTASHOP_COUNTRIES: dict[int, tuple[str, str]] = {8: ("FR", "France"), 21: ("US", "United States")}
PRESTASHOP_STATES: dict[int, tuple[str, str]] = {9: ("US-FL", "Florida")}


@dataclass(frozen=True)
class Combination:
    id_product_attribute: int
    price_impact: Decimal
    quantity: int


@dataclass(frozen=True)
class Product:
    id_product: int
    reference: str
    name: str
    price: Decimal
    product_type: str
    quantity: int
    combinations: list[Combination] = field(default_factory=list)

    @property
    def template_code(self) -> str:
        return self.reference or f"ps-{self.id_product}"


@dataclass(frozen=True)
class Address:
    id_address: int
    street: str
    postal_code: str
    city: str
    country_code: str | None
    country_name: str | None
    subdivision_code: str | None
    subdivision_name: str | None
    phone: str


@dataclass(frozen=True)
class Customer:
    id_customer: int
    firstname: str
    lastname: str
    email: str
    addresses: list[Address] = field(default_factory=list)

    @property
    def party_code(self) -> str:
        return f"PS-CUST-{self.id_customer}"

    @property
    def party_name(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()


@dataclass(frozen=True)
class DemoData:
    products: list[Product]
    customers: list[Customer]


def suffix_code(id_product_attribute: int) -> str:
    return f"-{id_product_attribute}" if id_product_attribute else ""


def erp_code(product: Product, id_product_attribute: int) -> str:
    return product.template_code + suffix_code(id_product_attribute)


# --- JSON (Decimals as strings) ------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dump_demo_data(data: DemoData, path: Path) -> None:
    path.write_text(json.dumps(asdict(data), default=_encode, indent=1) + "\n")


def load_demo_data(path: Path) -> DemoData:
    raw = json.loads(path.read_text())
    products = [
        Product(**{**item, "price": Decimal(item["price"]),
                   "combinations": [Combination(c["id_product_attribute"], Decimal(c["price_impact"]), c["quantity"])
                                    for c in item["combinations"]]})
        for item in raw["products"]
    ]
    customers = [
        Customer(**{**item, "addresses": [Address(**a) for a in item["addresses"]]})
        for item in raw["customers"]
    ]
    return DemoData(products, customers)


# --- reading the fixtures ------------------------------------------------------------------

def _default_lang(cur: Any, prefix: str) -> int:
    cur.execute(f"SELECT value FROM {prefix}configuration WHERE name='PS_LANG_DEFAULT' LIMIT 1")
    row = cur.fetchone()
    return int(row["value"]) if row else 1


def _stock(cur: Any, prefix: str) -> dict[tuple[int, int], int]:
    cur.execute(f"SELECT id_product, id_product_attribute, quantity FROM {prefix}stock_available "
                "WHERE id_shop = 1")
    return {(row["id_product"], row["id_product_attribute"]): int(row["quantity"]) for row in cur.fetchall()}


def query_products(cur: Any, prefix: str) -> list[Product]:
    lang = _default_lang(cur, prefix)
    stock = _stock(cur, prefix)
    cur.execute(f"SELECT id_product_attribute, id_product, price FROM {prefix}product_attribute "
                "ORDER BY id_product, id_product_attribute")
    combinations: dict[int, list[Combination]] = {}
    for row in cur.fetchall():
        key = (row["id_product"], row["id_product_attribute"])
        combinations.setdefault(row["id_product"], []).append(
            Combination(row["id_product_attribute"], Decimal(row["price"]), stock.get(key, 0)))
    cur.execute(
        f"SELECT p.id_product, p.reference, p.price, p.product_type, COALESCE(pl.name, '') AS name "
        f"FROM {prefix}product p LEFT JOIN {prefix}product_lang pl "
        "ON pl.id_product = p.id_product AND pl.id_lang = %s AND pl.id_shop = p.id_shop_default "
        "ORDER BY p.id_product", (lang,))
    return [
        Product(row["id_product"], row["reference"] or "", row["name"] or row["reference"] or f"#{row['id_product']}",
                Decimal(row["price"]), row["product_type"] or "standard", stock.get((row["id_product"], 0), 0),
                combinations.get(row["id_product"], []))
        for row in cur.fetchall()
    ]


def _address(row: dict[str, Any]) -> Address:
    country = PRESTASHOP_COUNTRIES.get(row["id_country"])
    state = PRESTASHOP_STATES.get(row["id_state"] or 0)
    if country is None:
        log.warning("tryton: PrestaShop id_country %s has no ISO mapping; address %s gets no country",
                    row["id_country"], row["id_address"])
    street = "\n".join(part for part in (row["address1"], row["address2"]) if part)
    return Address(row["id_address"], street, row["postcode"] or "", row["city"] or "",
                   country[0] if country else None, country[1] if country else None,
                   state[0] if state and country else None, state[1] if state and country else None,
                   row["phone"] or row["phone_mobile"] or "")


def query_customers(cur: Any, prefix: str) -> list[Customer]:
    cur.execute(f"SELECT id_address, id_customer, id_country, id_state, address1, address2, postcode, city, "
                f"phone, phone_mobile FROM {prefix}address WHERE deleted = 0 AND id_customer > 0 "
                "ORDER BY id_address")
    addresses: dict[int, list[Address]] = {}
    for row in cur.fetchall():
        addresses.setdefault(row["id_customer"], []).append(_address(row))
    cur.execute(f"SELECT id_customer, firstname, lastname, email FROM {prefix}customer "
                "WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer")
    return [Customer(row["id_customer"], row["firstname"], row["lastname"], row["email"],
                     addresses.get(row["id_customer"], []))
            for row in cur.fetchall()]


def read_demo_data(settings: StackSettings) -> DemoData:
    """Load the PrestaShop fixtures into a scratch database, read them, drop the database."""
    database = f"pssync_seed_{uuid.uuid4().hex[:10]}"
    prefix = "ps_"
    params = settings.mysql_params()
    try:
        load_prestashop_fixtures(params, database, prefix, fixtures_dir=settings.fixtures_dir)
        conn = pymysql.connect(**settings.mysql_params(database), cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                return DemoData(query_products(cur, prefix), query_customers(cur, prefix))
        finally:
            conn.close()
    finally:
        conn = pymysql.connect(**params, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        finally:
            conn.close()
