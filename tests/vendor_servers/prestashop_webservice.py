"""A local server following PrestaShop's Webservice documents, for exactly the resources the shop
sink's Webservice mode uses: configurations, stock_availables, orders, order_details,
order_histories, order_carriers, products and combinations.

It is NOT PrestaShop. It follows our reading of the documents and sources named in
../shared/reference/prestashop.md (section 3, and section 2 for what a state change and a
checkout do to stock): ``/api/<resource>[/<id>]``; HTTP Basic with the 32-character key as the
user name (or ``?ws_key=``), per-resource and per-method key permissions; the error checks and
codes of ``WebserviceRequest`` (401 codes 16-21 and 26, 405 codes 23/25/101, 400 code 27 and 32-39,
404 code 87); XML output by default and JSON with ``output_format=JSON`` / ``io_format=JSON`` or the
``Output-Format`` / ``Io-Format`` headers; the JSON shapes of ``WebserviceOutputJSON`` (a list is
``{"orders":[...]}`` and a bare ``[]`` when nothing matched; one record is ``{"order":{...}}``
without its falsy fields; ``{"orders":[{...}]}`` when ``display`` is given); ``display=full`` /
``[f1,f2]``, ``filter[f]=`` with ``[v]``, ``[a|b]``, ``[a,b]``, ``>[v]``, ``<[v]``, ``![v]``,
``[v]%`` (date fields only with ``date=1``), ``sort=[f_ASC]``, ``limit=n`` / ``o,n``; XML request
bodies; PATCH with only the id and the fields to change (8.0+).

Behaviour it imitates: a stock_available write re-sums the product-level row from the
combination rows (``StockAvailable::postSave``) and touches neither physical nor reserved
quantities; POST order_histories changes the order's ``current_state``/``valid``/``date_upd`` and
gives stock back when an order enters CANCELED/ERROR (takes it again when it leaves them);
``?sendemail=1`` is recorded in ``emails``; ``place_order`` is a checkout (order, lines, carrier row,
first history row, stock decremented like ``validateOrder``).

Test switches: ``fail_next`` (503/429 with Retry-After, 500, timeout, lost reply), ``on`` (run
something, e.g. a checkout, right before or after a given write is applied, to race it),
``enabled`` (PS_WEBSERVICE), the key's ``permissions``; ``calls`` records every request."""
from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.vendor_servers.base import Call, Reply, VendorServer, _basic, _Handler

DEFAULT_KEY = "PSSYNCWSTESTKEY7C0FFEE1234567890"          # 32 characters, like a generated key
ALL_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
ZERO_DATE = "0000-00-00 00:00:00"


@dataclass(frozen=True)
class Resource:
    node: str                                  # the singular node name
    fields: tuple[str, ...]
    implemented: frozenset[str]                # methods this test server implements
    forbidden: frozenset[str] = frozenset()    # PrestaShop's forbidden_method
    writable: frozenset[str] = frozenset()     # fields a write may carry (besides id)
    dynamic: frozenset[str] = frozenset()      # computed (getter): displayable, not filterable
    associations: tuple[str, ...] = ()


RESOURCES: dict[str, Resource] = {
    "configurations": Resource("configuration", ("value", "name", "id_shop_group", "id_shop", "date_add",
                                                 "date_upd"), frozenset({"GET"})),
    "stock_availables": Resource(
        "stock_available", ("id_product", "id_product_attribute", "id_shop", "id_shop_group", "quantity",
                            "depends_on_stock", "out_of_stock", "location"),
        frozenset({"GET", "PATCH"}), forbidden=frozenset({"POST", "DELETE"}),
        writable=frozenset({"quantity", "out_of_stock", "location", "depends_on_stock"})),
    "orders": Resource(
        "order", ("id_address_delivery", "id_address_invoice", "id_cart", "id_currency", "id_lang",
                  "id_customer", "id_carrier", "current_state", "module", "invoice_number", "invoice_date",
                  "delivery_number", "delivery_date", "valid", "date_add", "date_upd", "shipping_number",
                  "id_shop_group", "id_shop", "secure_key", "payment", "total_paid", "total_paid_real",
                  "total_products", "total_products_wt", "conversion_rate", "reference"),
        frozenset({"GET"}), dynamic=frozenset({"shipping_number"}), associations=("order_rows",)),
    "order_details": Resource(
        "order_detail", ("id_order", "product_id", "product_attribute_id", "product_quantity", "product_name",
                         "product_reference", "product_price", "unit_price_tax_incl", "unit_price_tax_excl",
                         "product_quantity_refunded", "id_shop"), frozenset({"GET"})),
    "order_histories": Resource("order_history", ("id_employee", "id_order_state", "id_order", "date_add"),
                                frozenset({"GET", "POST"}),
                                writable=frozenset({"id_order", "id_order_state", "id_employee"})),
    "order_carriers": Resource(
        "order_carrier", ("id_order", "id_carrier", "id_order_invoice", "weight", "shipping_cost_tax_excl",
                          "shipping_cost_tax_incl", "tracking_number", "date_add"),
        frozenset({"GET", "PATCH"}), writable=frozenset({"tracking_number", "weight", "id_carrier"})),
    "products": Resource(
        "product", ("id_manufacturer", "id_category_default", "reference", "price", "wholesale_price", "active",
                    "product_type", "quantity", "date_add", "date_upd", "name"),
        frozenset({"GET", "PATCH"}), writable=frozenset({"price", "wholesale_price", "active", "reference"}),
        dynamic=frozenset({"quantity"})),
    "combinations": Resource(
        "combination", ("id_product", "reference", "price", "wholesale_price", "minimal_quantity", "default_on"),
        frozenset({"GET", "PATCH"}), writable=frozenset({"price", "wholesale_price", "reference",
                                                         "minimal_quantity"})),
}

# Default order states (install-dev/data/xml/order_state.xml): id -> (PS_OS_ name, logable, send_email)
DEFAULT_ORDER_STATES: dict[int, tuple[str, bool, bool]] = {
    1: ("CHEQUE", False, True), 2: ("PAYMENT", True, True), 3: ("PREPARATION", True, True),
    4: ("SHIPPING", True, True), 5: ("DELIVERED", True, False), 6: ("CANCELED", False, True),
    7: ("REFUND", False, True), 8: ("ERROR", False, True), 9: ("OUTOFSTOCK_PAID", False, True),
    10: ("BANKWIRE", False, True), 11: ("WS_PAYMENT", True, True), 12: ("OUTOFSTOCK_UNPAID", False, True),
    13: ("COD_VALIDATION", False, False),
}
_TRACKING = re.compile(r"^[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+$")     # Validate::isTrackingNumber
_FILTER = re.compile(r"^(.*)\[(.*)\](.*)$", re.S)


class WsError(Exception):
    def __init__(self, status: int, errors: list[tuple[int, str]], headers: dict[str, str] | None = None) -> None:
        super().__init__(errors)
        self.status, self.errors, self.headers = status, errors, headers or {}


def _err(status: int, code: int, message: str) -> WsError:
    return WsError(status, [(code, message)])


def ps_value(value: Any) -> Any:
    """How a stored value reads in the Webservice output (strings, DECIMAL(20,6) prices)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:.6f}"
    if isinstance(value, float):
        return f"{Decimal(str(value)):.6f}"
    return str(value)


def _php_truthy(value: Any) -> bool:
    return value not in (None, "", "0", 0, False, [], {})


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def _compare(left: Any, right: str) -> int:
    a, b = ("" if left is None else str(left)), right
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    a, b = a.lower(), b.lower()
    return (a > b) - (a < b)


def filter_matches(value: Any, spec: str) -> bool:
    """PrestaShop's getSQLRetrieveFilter, evaluated in Python."""
    m = _FILTER.match(spec)
    if not m:
        return _compare(value, spec) == 0
    before, inner, after = m.groups()
    if before == "%" or after == "%":
        text, needle = ("" if value is None else str(value)).lower(), inner.lower()
        if before == "%" and after == "%":
            return needle in text
        return text.endswith(needle) if before == "%" else text.startswith(needle)
    if before == "" and after == "":
        if inner.find("|") > 0:
            return any(_compare(value, v) == 0 for v in inner.split("|"))
        if inner.find(",") > 0:
            low, high = inner.split(",", 1)
            return _compare(value, low) >= 0 and _compare(value, high) <= 0
        return _compare(value, inner) == 0
    if before == ">":
        return _compare(value, inner) > 0
    if before == "<":
        return _compare(value, inner) < 0
    if before == "!":
        return _compare(value, inner) != 0
    return False


@dataclass
class Hook:
    method: str
    resource: str
    when: Literal["before", "after"]
    action: Callable[["PrestashopWebserviceServer"], None]
    remaining: int


@dataclass
class Email:
    template: str
    id_order: int
    detail: str


@dataclass(frozen=True)
class StoredCall(Call):
    at: float = field(default=0.0, compare=False)


class PrestashopWebserviceServer(VendorServer):
    def __init__(self, key: str = DEFAULT_KEY, *, permissions: dict[str, Iterable[str]] | None = None,
                 timezone: str = "UTC", version: str = "8.1.7") -> None:
        super().__init__()
        self.key = key
        self.active_keys = {key}
        self.permissions: dict[str, frozenset[str]] = (
            {r: ALL_METHODS for r in RESOURCES} if permissions is None
            else {r: frozenset(m) for r, m in permissions.items()})
        self.enabled = True
        self.zone = ZoneInfo(timezone)
        self.version = version
        self.rows: dict[str, dict[int, dict[str, Any]]] = {r: {} for r in RESOURCES}
        self.order_states = dict(DEFAULT_ORDER_STATES)
        self.emails: list[Email] = []
        self.hooks: list[Hook] = []

    def start(self) -> "PrestashopWebserviceServer":
        """As VendorServer.start, polling for shutdown more often (tests start many of these)."""
        handler = type("Handler", (_NoDelayHandler,), {"vendor": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=type(self).__name__)
        self._thread.start()
        return self

    # ---- clock, ids ------------------------------------------------------------------------------
    def now(self) -> str:
        return dt.datetime.now(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _next_id(self, resource: str) -> int:
        return max(self.rows[resource], default=0) + 1

    def _insert(self, resource: str, values: dict[str, Any], record_id: int | None = None) -> int:
        with self.lock:
            record_id = record_id or self._next_id(resource)
            fields = RESOURCES[resource].fields
            row = {f: None for f in fields if f not in RESOURCES[resource].dynamic}
            row.update({k: ps_value(v) for k, v in values.items()})
            self.rows[resource][record_id] = row
            return record_id

    # ---- seeding ----------------------------------------------------------------------------------
    def add_configuration(self, name: str, value: Any, id_shop: int | None = None,
                          id_shop_group: int | None = None) -> int:
        stamp = "2024-01-01 00:00:00"
        return self._insert("configurations", {"name": name, "value": value, "id_shop": id_shop,
                                               "id_shop_group": id_shop_group, "date_add": stamp,
                                               "date_upd": stamp})

    def add_order_states(self) -> None:
        """The PS_OS_* configuration rows for the default order states."""
        for state_id, (name, _, _) in self.order_states.items():
            self.add_configuration(f"PS_OS_{name}", state_id)

    def add_product(self, id_product: int, reference: str, price: Any, *, name: str = "") -> int:
        stamp = "2024-01-01 00:00:00"
        return self._insert("products", {"reference": reference, "price": Decimal(str(price)), "active": 1,
                                         "wholesale_price": Decimal(0), "id_manufacturer": 0,
                                         "id_category_default": 2, "product_type": "standard",
                                         "name": name or reference, "date_add": stamp, "date_upd": stamp},
                            id_product)

    def add_combination(self, id_product_attribute: int, id_product: int, reference: str,
                        impact: Any = 0, *, default_on: bool = False) -> int:
        with self.lock:
            self.rows["products"][id_product]["product_type"] = "combinations"
        return self._insert("combinations", {"id_product": id_product, "reference": reference,
                                             "price": Decimal(str(impact)), "wholesale_price": Decimal(0),
                                             "minimal_quantity": 1, "default_on": 1 if default_on else None},
                            id_product_attribute)

    def add_stock(self, id_product: int, id_product_attribute: int, quantity: int, *, id_shop: int = 1,
                  id_shop_group: int = 0, record_id: int | None = None, depends_on_stock: int = 0) -> int:
        return self._insert("stock_availables", {
            "id_product": id_product, "id_product_attribute": id_product_attribute, "id_shop": id_shop,
            "id_shop_group": id_shop_group, "quantity": quantity, "depends_on_stock": depends_on_stock,
            "out_of_stock": 2, "location": ""}, record_id)

    def add_order(self, reference: str, lines: Iterable[tuple[int, int, int]], *, state: int = 2,
                  date_add: str | None = None, id_shop: int = 1, id_shop_group: int = 1,
                  id_carrier: int = 2, record_id: int | None = None, decrement: bool = False,
                  detail_ids: Iterable[int] | None = None, history: Iterable[tuple[int, str]] = ()) -> int:
        """An order with its lines (product_id, product_attribute_id, quantity), its order_carrier
        row and its first history row. ``decrement``: take the stock as a checkout does."""
        with self.lock:
            stamp = date_add or self.now()
            logable = self.order_states[state][1]
            id_order = self._insert("orders", {
                "reference": reference, "id_shop": id_shop, "id_shop_group": id_shop_group,
                "id_carrier": id_carrier, "id_lang": 1, "id_customer": 1, "id_cart": 0, "id_currency": 1,
                "id_address_delivery": 2, "id_address_invoice": 2, "current_state": state,
                "module": "ps_checkpayment", "payment": "Payment by check", "secure_key": "0" * 32,
                "invoice_number": 0, "invoice_date": ZERO_DATE, "delivery_number": 0,
                "delivery_date": ZERO_DATE, "valid": 1 if logable else 0, "date_add": stamp, "date_upd": stamp,
                "total_paid": Decimal(0), "total_paid_real": Decimal(0), "total_products": Decimal(0),
                "total_products_wt": Decimal(0), "conversion_rate": Decimal(1)}, record_id)
            ids = list(detail_ids or [])
            for n, (product, attribute, quantity) in enumerate(lines):
                self._insert("order_details", {
                    "id_order": id_order, "product_id": product, "product_attribute_id": attribute,
                    "product_quantity": quantity, "product_name": f"product {product}",
                    "product_reference": "", "product_price": Decimal(0), "unit_price_tax_incl": Decimal(0),
                    "unit_price_tax_excl": Decimal(0), "product_quantity_refunded": 0, "id_shop": id_shop},
                    ids[n] if n < len(ids) else None)
            self._insert("order_carriers", {"id_order": id_order, "id_carrier": id_carrier,
                                            "id_order_invoice": None, "weight": Decimal(0),
                                            "shipping_cost_tax_excl": Decimal(7), "shipping_cost_tax_incl": Decimal(7),
                                            "tracking_number": None, "date_add": stamp})
            for hist_state, when in (list(history) or [(state, stamp)]):
                self._insert("order_histories", {"id_employee": 0, "id_order": id_order,
                                                 "id_order_state": hist_state, "date_add": when})
            if decrement and state not in self._cancel_states():
                for product, attribute, quantity in lines:
                    self._stock_delta(product, attribute, id_shop, -quantity)
            return id_order

    def add_order_carrier(self, id_order: int, id_carrier: int, tracking_number: str | None = None) -> int:
        """Another carrier row for an order (e.g. after a carrier change in the back office)."""
        return self._insert("order_carriers", {"id_order": id_order, "id_carrier": id_carrier,
                                               "id_order_invoice": None, "weight": Decimal(0),
                                               "shipping_cost_tax_excl": Decimal(0),
                                               "shipping_cost_tax_incl": Decimal(0),
                                               "tracking_number": tracking_number, "date_add": self.now()})

    def place_order(self, reference: str, lines: Iterable[tuple[int, int, int]], *, state: int = 2,
                    id_shop: int = 1) -> int:
        """A checkout now: ``validateOrder`` writes the order and its lines and takes the stock."""
        return self.add_order(reference, list(lines), state=state, id_shop=id_shop, decrement=True)

    # ---- switches -----------------------------------------------------------------------------------
    def on(self, method: str, resource: str, action: Callable[["PrestashopWebserviceServer"], None], *,
           when: Literal["before", "after"] = "before", times: int = 1) -> None:
        """Run ``action`` right before (or after) the next ``times`` writes of that kind are applied."""
        with self.lock:
            self.hooks.append(Hook(method, resource, when, action, times))

    # ---- reading the state -------------------------------------------------------------------------
    def row(self, resource: str, record_id: int) -> dict[str, Any]:
        with self.lock:
            return dict(self.rows[resource][record_id])

    def stock(self, id_product: int, id_product_attribute: int, id_shop: int = 1) -> int:
        with self.lock:
            for row in self.rows["stock_availables"].values():
                if (row["id_product"], row["id_product_attribute"], row["id_shop"]) == \
                        (str(id_product), str(id_product_attribute), str(id_shop)):
                    return int(row["quantity"])
        raise KeyError((id_product, id_product_attribute, id_shop))

    def requests(self, method: str | None = None, path_contains: str = "") -> list[StoredCall]:
        with self.lock:
            return [c for c in self.calls if (method is None or c.method == method)
                    and path_contains in c.path]  # type: ignore[misc]

    # ---- stock rules -------------------------------------------------------------------------------
    def _config_value(self, name: str) -> str | None:
        for row in self.rows["configurations"].values():
            if row["name"] == name:
                return row["value"]
        return None

    def _cancel_states(self) -> set[int]:
        ids = {self._config_value("PS_OS_CANCELED"), self._config_value("PS_OS_ERROR")}
        return {int(v) for v in ids if v} or {6, 8}

    def _stock_row(self, product: int, attribute: int, id_shop: int) -> tuple[int, dict[str, Any]] | None:
        rows = self.rows["stock_availables"]
        for want_shop in (id_shop, 0):
            for rid, row in rows.items():
                if (row["id_product"], row["id_product_attribute"], row["id_shop"]) == \
                        (str(product), str(attribute), str(want_shop)):
                    return rid, row
        return None

    def _stock_delta(self, product: int, attribute: int, id_shop: int, delta: int) -> None:
        found = self._stock_row(product, attribute, id_shop)
        if found is None:
            return
        _, row = found
        row["quantity"] = str(int(row["quantity"]) + delta)
        self._post_save(row)

    def _post_save(self, row: dict[str, Any]) -> None:
        """StockAvailable::postSave: a combination row's save rewrites the product-level row as the
        sum of the product's combination rows (same shop / shop group)."""
        if row["id_product_attribute"] == "0":
            return
        same = [r for r in self.rows["stock_availables"].values()
                if r["id_product"] == row["id_product"] and r["id_shop"] == row["id_shop"]
                and r["id_shop_group"] == row["id_shop_group"]]
        total = sum(int(r["quantity"]) for r in same if r["id_product_attribute"] != "0")
        for r in same:
            if r["id_product_attribute"] == "0":
                r["quantity"] = str(total)

    # ---- HTTP -----------------------------------------------------------------------------------
    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str],  # type: ignore[override]
                  raw_body: bytes) -> Reply | None:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        text = raw_body.decode("utf-8", errors="replace") if raw_body else ""
        body: Any = _parse_body(text) if text else None
        call = StoredCall(method, path, query, body, at=time.monotonic())
        with self.lock:
            self.calls.append(call)
        json_out = "JSON" in (headers.get("io-format"), headers.get("output-format"),
                              query.get("output_format"), query.get("io_format"))
        fault = self._take_fault(method, path)
        if fault is not None:
            if fault.kind == "timeout":
                time.sleep(self.timeout_delay)
                return None
            if fault.kind in ("503", "429"):
                status = int(fault.kind)
                phrase = "Service Unavailable" if status == 503 else "Too Many Requests"
                return Reply(status, f"<html><head><title>{status} {phrase}</title></head><body><h1>{phrase}"
                                     f"</h1></body></html>",
                             {"Retry-After": fault.retry_after, "Content-Type": "text/html"})
            if fault.kind == "lost_reply":
                with self.lock:
                    self._answer(call, headers, json_out)
                return Reply(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>",
                             {"Content-Type": "text/html"})
            return self._render_errors(WsError(500, [(2, "[PHP Error #1] Allowed memory size exhausted "
                                                         "(classes/webservice/WebserviceRequest.php)")]), json_out)
        with self.lock:
            return self._answer(call, headers, json_out)

    def _answer(self, call: Call, headers: dict[str, str], json_out: bool) -> Reply:
        try:
            status, payload = self._handle(call, headers)
        except WsError as exc:
            return self._render_errors(exc, json_out)
        return self._render(status, payload, json_out)

    def _handle(self, call: Call, headers: dict[str, str]) -> tuple[int, Any]:
        if not (call.path == "/api" or call.path.startswith("/api/")):
            raise _err(404, 0, f"no route for {call.path}")
        segments = [s for s in call.path[len("/api"):].split("/") if s]
        if not self.enabled:
            raise _err(503, 22, "The PrestaShop webservice is disabled. Please activate it in the PrestaShop "
                                "Back Office")
        self._authenticate(call, headers)
        if not segments:
            raise _err(400, 0, "the resource list is not served by this test server")
        resource = segments[0]
        if resource not in RESOURCES:
            raise _err(400, 27, f'Resource of type "{resource}" does not exists. Did you mean: '
                                f'"{_closest(resource, RESOURCES)}"?')
        if resource not in self.permissions:
            raise _err(401, 26, f'Resource of type "{resource}" is not allowed with this authentication key')
        spec = RESOURCES[resource]
        if call.method not in ALL_METHODS:
            raise _err(405, 23, f"Method {call.method} is not valid")
        if call.method in spec.forbidden:
            raise _err(405, 101, f"Method {call.method} is not allowed for the resource {resource}")
        if call.method not in self.permissions[resource]:
            raise _err(405, 25, f"Method {call.method} is not allowed for the resource {resource} with this "
                                f"authentication key")
        if call.method not in spec.implemented:
            raise _err(405, 0, f"{call.method} {resource} is not implemented by this test server")
        record_id = None
        if len(segments) > 1:
            if not segments[1].isdigit():
                raise _err(400, 0, f"bad id {segments[1]!r}")
            record_id = int(segments[1])
        if call.method == "GET":
            return self._get(resource, record_id, call.query)
        if call.method == "PATCH":
            if record_id is None:
                raise _err(400, 66, "id is forbidden when adding or modifying several resources")
            return self._write(call, resource, record_id)
        if call.method == "POST":
            if record_id is not None:
                raise _err(400, 66, "id is forbidden when adding a new resource")
            return self._write(call, resource, None)
        raise _err(405, 0, f"{call.method} is not implemented by this test server")

    def _authenticate(self, call: Call, headers: dict[str, str]) -> None:
        basic = _basic(headers.get("authorization", ""))
        key = basic[0] if basic is not None else call.query.get("ws_key")
        challenge = {"WWW-Authenticate": 'Basic realm="Welcome to PrestaShop Webservice, please enter the '
                                         'authentication key as the login. No password required."'}
        if key is None:
            raise WsError(401, [(16, "Please enter the authentication key as the login. No password required")],
                          challenge)
        if key == "":
            raise WsError(401, [(17, "Authentication key is empty")], challenge)
        if len(key) != 32:
            raise WsError(401, [(18, "Invalid authentication key format")], challenge)
        if key not in self.active_keys:
            raise WsError(401, [(20, "Authentification key is not active"),
                                (21, "No permission for this authentication key")], challenge)

    # -- GET -------------------------------------------------------------------------------------
    def _record(self, resource: str, record_id: int, fields: Iterable[str] | None,
                associations: bool) -> dict[str, Any]:
        row = self.rows[resource][record_id]
        out: dict[str, Any] = {}
        for name in (fields if fields is not None else ("id", *RESOURCES[resource].fields)):
            out[name] = record_id if name == "id" else self._field(resource, record_id, row, name)
        if associations and resource == "orders":
            lines = [{"id": did, "product_id": d["product_id"], "product_attribute_id": d["product_attribute_id"],
                      "product_quantity": d["product_quantity"], "product_name": d["product_name"],
                      "product_reference": d["product_reference"], "product_price": d["product_price"],
                      "unit_price_tax_incl": d["unit_price_tax_incl"],
                      "unit_price_tax_excl": d["unit_price_tax_excl"]}
                     for did, d in sorted(self.rows["order_details"].items()) if d["id_order"] == str(record_id)]
            out["associations"] = {"order_rows": lines}
        return out

    def _field(self, resource: str, record_id: int, row: dict[str, Any], name: str) -> Any:
        if resource == "orders" and name == "shipping_number":       # Order::getWsShippingNumber
            carriers = [c for cid, c in sorted(self.rows["order_carriers"].items())
                        if c["id_order"] == str(record_id)]
            return (carriers[-1]["tracking_number"] or "") if carriers else ""
        if resource == "products" and name == "quantity":
            for r in self.rows["stock_availables"].values():
                if r["id_product"] == str(record_id) and r["id_product_attribute"] == "0":
                    return r["quantity"]
            return "0"
        return row.get(name)

    def _get(self, resource: str, record_id: int | None, query: dict[str, str]) -> tuple[int, Any]:
        spec = RESOURCES[resource]
        display = query.get("display")
        fields: list[str] | None = None
        if display not in (None, "full", "minimum"):
            m = re.fullmatch(r"\[(.*)\]", display)
            available = ", ".join(("id", *spec.fields))
            if not m:
                raise _err(400, 36, "The 'display' syntax is wrong. You can set 'full' or "
                                    f"'[field_1,field_2,field_3,...]'. These are available: {available}")
            fields = [f.strip() for f in m.group(1).split(",") if f.strip()]
            for name in fields:
                if name != "id" and name not in spec.fields:
                    raise _err(400, 35, f'Unable to display this field "{name}". However, these are available: '
                                        f"{available}")
        if record_id is not None:
            if record_id not in self.rows[resource]:
                raise _err(404, 87, f"Id(s) not exists: {record_id}")
            record = self._record(resource, record_id, fields, fields is None)
            if display is not None:
                return 200, ("list", resource, [record])
            return 200, ("one", spec.node, record)
        filterable = [f for f in spec.fields if f not in spec.dynamic]
        with_dates = query.get("date") == "1"
        if not with_dates:
            filterable = [f for f in filterable if f not in ("date_add", "date_upd")]
        filters: list[tuple[str, str]] = []
        for name, value in query.items():
            m = re.fullmatch(r"filter\[(\w+)\]", name)
            if not m:
                continue
            fname = m.group(1)
            if fname in spec.dynamic:
                raise _err(400, 34, f'The field "{fname}" is dynamic. It is not possible to filter GET query '
                                    "with this field.")
            if fname != "id" and fname not in filterable:
                raise _err(400, 32, f'This filter does not exist. Did you mean: "{_closest(fname, filterable)}"? '
                                    f'The full list is: "{", ".join(filterable)}"')
            if value == "":
                raise _err(400, 33, f'The filter "{fname}" is malformed.')
            filters.append((fname, value))
        ids = [rid for rid, row in sorted(self.rows[resource].items())
               if all(filter_matches(rid if f == "id" else row.get(f), v) for f, v in filters)]
        if "sort" in query:
            raw = query["sort"]
            m = re.fullmatch(r"\[(.*)\]", raw)
            for item in reversed((m.group(1) if m else raw).split(",")):
                fname, _, direction = item.rpartition("_")
                if not fname or direction.upper() not in ("ASC", "DESC"):
                    raise _err(400, 37, 'The "sort" value has to be formed as this example: "field_ASC" or '
                                        "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an "
                                        "available field)")
                if fname != "id" and fname not in filterable:
                    raise _err(400, 38, "Unable to filter by this field. However, these are available: "
                                        + ", ".join(filterable))
                ids.sort(key=lambda rid, f=fname: _sort_key(rid if f == "id" else self.rows[resource][rid].get(f)),
                         reverse=direction.upper() == "DESC")
        if "limit" in query:
            args = query["limit"].split(",")
            if len(args) > 2:
                raise _err(400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"')
            offset, count = (int(args[0] or 0), int(args[1] or 0)) if len(args) == 2 else (0, int(args[0] or 0))
            ids = ids[offset:offset + count]
        if display is None or display == "minimum":
            return 200, ("ids", resource, [{"id": rid} for rid in ids])
        return 200, ("list", resource, [self._record(resource, rid, fields, fields is None) for rid in ids])

    # -- writes -------------------------------------------------------------------------------------
    def _write(self, call: Call, resource: str, record_id: int | None) -> tuple[int, Any]:
        spec = RESOURCES[resource]
        body = call.body
        if not isinstance(body, dict) or set(body) != {spec.node}:
            got = ", ".join(body) if isinstance(body, dict) else "no XML"
            raise _err(400, 127, f"XML error : the body must be <prestashop><{spec.node}>...</{spec.node}>"
                                 f"</prestashop>, got {got}")
        values: dict[str, str] = dict(body[spec.node])
        if record_id is not None:
            if "id" not in values:
                raise _err(400, 90, "id is required when modifying a resource")
            if not values["id"].isdigit() or int(values["id"]) != record_id:
                raise _err(400, 89, "id is invalid")
            if record_id not in self.rows[resource]:
                raise _err(404, 87, f"Id(s) not exists: {record_id}")
        values.pop("id", None)
        for name in values:
            if name not in spec.fields:
                raise _err(400, 93, f'parameter "{name}" does not exist for the resource {resource}')
            if name not in spec.writable:
                raise _err(400, 93, f'parameter "{name}" not writable. Please remove this attribute of this XML')
        self._run_hooks(call.method, resource, "before")
        if resource == "stock_availables":
            status, record = self._patch_stock(record_id, values)      # type: ignore[arg-type]
        elif resource == "order_histories":
            status, record = self._post_history(values, call.query.get("sendemail") == "1")
        elif resource == "order_carriers":
            status, record = self._patch_carrier(record_id, values,      # type: ignore[arg-type]
                                                 call.query.get("sendemail") == "1")
        else:
            status, record = self._patch_price(resource, record_id, values)   # type: ignore[arg-type]
        self._run_hooks(call.method, resource, "after")
        return status, ("one", spec.node, record)

    def _run_hooks(self, method: str, resource: str, when: str) -> None:
        for hook in list(self.hooks):
            if hook.remaining > 0 and (hook.method, hook.resource, hook.when) == (method, resource, when):
                hook.remaining -= 1
                hook.action(self)

    def _patch_stock(self, record_id: int, values: dict[str, str]) -> tuple[int, dict[str, Any]]:
        row = self.rows["stock_availables"][record_id]
        if row["depends_on_stock"] == "1":
            raise _err(400, 133, "This stock_available depends on the warehouse stock (advanced stock "
                                 "management): its quantity cannot be set through the webservice")
        if "quantity" in values and not re.fullmatch(r"-?\d+", values["quantity"].strip()):
            raise _err(400, 85, 'Validation error: "Property StockAvailable->quantity is not valid"')
        for name, value in values.items():
            row[name] = value.strip()
        self._post_save(row)
        return 200, self._record("stock_availables", record_id, None, False)

    def _patch_price(self, resource: str, record_id: int, values: dict[str, str]) -> tuple[int, dict[str, Any]]:
        row = self.rows[resource][record_id]
        for name in ("price", "wholesale_price"):
            if name in values:
                number = _number(values[name].strip())
                negative_ok = resource == "combinations" and name == "price"   # an impact: isNegativePrice
                if number is None or (number < 0 and not negative_ok):
                    cls = "Product" if resource == "products" else "Combination"
                    raise _err(400, 85, f'Validation error: "Property {cls}->{name} is not valid"')
                values[name] = f"{number:.6f}"
        row.update({k: v for k, v in values.items()})
        if resource == "products":
            row["date_upd"] = self.now()
        return 200, self._record(resource, record_id, None, False)

    def _patch_carrier(self, record_id: int, values: dict[str, str], sendemail: bool) -> tuple[int, dict[str, Any]]:
        tracking = values.get("tracking_number")
        if tracking is not None and tracking != "" and (len(tracking) > 64 or not _TRACKING.match(tracking)):
            raise _err(400, 85, 'Validation error: "Property OrderCarrier->tracking_number is not valid"')
        row = self.rows["order_carriers"][record_id]
        row.update(values)
        if sendemail and tracking:
            self.emails.append(Email("in_transit", int(row["id_order"]), tracking))
        return 200, self._record("order_carriers", record_id, None, False)

    def _post_history(self, values: dict[str, str], sendemail: bool) -> tuple[int, dict[str, Any]]:
        for name in ("id_order", "id_order_state"):
            if not values.get(name, "").strip():
                raise _err(400, 41, f'Validation error: "Property OrderHistory->{name} is empty"')
            if not values[name].strip().isdigit():
                raise _err(400, 85, f'Validation error: "Property OrderHistory->{name} is not valid"')
        id_order, new_state = int(values["id_order"]), int(values["id_order_state"])
        order = self.rows["orders"].get(id_order)
        if order is None or new_state not in self.order_states:
            raise _err(400, 85, 'Validation error: "Property OrderHistory->'
                                f'{"id_order" if order is None else "id_order_state"} is not valid"')
        old_state = int(order["current_state"])
        cancels = self._cancel_states()
        delta = (+1 if new_state in cancels and old_state not in cancels
                 else -1 if old_state in cancels and new_state not in cancels else 0)
        if delta:
            for d in self.rows["order_details"].values():
                if d["id_order"] == str(id_order):
                    self._stock_delta(int(d["product_id"]), int(d["product_attribute_id"]), int(order["id_shop"]),
                                      delta * int(d["product_quantity"]))
        stamp = self.now()
        history_id = self._insert("order_histories", {"id_employee": values.get("id_employee") or 0,
                                                      "id_order": id_order, "id_order_state": new_state,
                                                      "date_add": stamp})
        order["current_state"] = str(new_state)
        order["valid"] = "1" if self.order_states[new_state][1] else "0"
        order["date_upd"] = stamp
        if sendemail and self.order_states[new_state][2]:
            self.emails.append(Email(self.order_states[new_state][0].lower(), id_order, f"state {new_state}"))
        return 201, self._record("order_histories", history_id, None, False)

    # -- output -------------------------------------------------------------------------------------
    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"PSWS-Version": self.version, "Execution-Time": "0.004", **(extra or {})}

    def _render(self, status: int, payload: tuple[str, str, Any], json_out: bool) -> Reply:
        shape, name, data = payload
        if json_out:
            if shape == "one":        # WebserviceOutputJSON::overrideContent: array_filter on the record
                return Reply(status, {name: {k: v for k, v in data.items() if _php_truthy(v)}}, self._headers())
            return Reply(status, {name: data} if data else [], self._headers())
        return Reply(status, _xml_document(shape, name, data, self.url),
                     self._headers({"Content-Type": "text/xml;charset=utf-8"}))

    def _render_errors(self, exc: WsError, json_out: bool) -> Reply:
        headers = self._headers(exc.headers)
        if json_out:
            return Reply(exc.status, {"errors": [{"code": c, "message": m} for c, m in exc.errors]}, headers)
        root = ET.Element("prestashop", {"xmlns:xlink": "http://www.w3.org/1999/xlink"})
        errors = ET.SubElement(root, "errors")
        for code, message in exc.errors:
            error = ET.SubElement(errors, "error")
            ET.SubElement(error, "code").text = str(code)
            ET.SubElement(error, "message").text = message
        headers["Content-Type"] = "text/xml;charset=utf-8"
        return Reply(exc.status, _xml_text(root), headers)

    # VendorServer's abstract hooks (the OAuth parts are unused: PrestaShop uses its key)
    def credentials_ok(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        return False

    def route(self, call: Call) -> Reply:
        raise NotImplementedError("PrestashopWebserviceServer answers in _dispatch")

    def error_reply(self, kind: Any, call: Call) -> Reply:
        raise NotImplementedError


class _NoDelayHandler(_Handler):
    """Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and delayed
    ACKs add ~40 ms to every keep-alive request."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _parse_body(text: str) -> Any:
    """``<prestashop><node><field>v</field></node></prestashop>`` -> {node: {field: v}}; else the text."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return text
    if root.tag != "prestashop":
        return text
    return {child.tag: {f.tag: (f.text or "") for f in child if len(f) == 0} for child in root}


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number("" if value is None else str(value))
    return (0, number) if number is not None else (1, "" if value is None else str(value).lower())


def _closest(word: str, words: Iterable[str]) -> str:
    def distance(a: str, b: str) -> int:
        previous = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            current = [i]
            for j, cb in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
            previous = current
        return previous[-1]
    return min(words, key=lambda w: distance(word, w), default="")


def _xml_text(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _xml_document(shape: str, name: str, data: Any, base_url: str) -> str:
    root = ET.Element("prestashop", {"xmlns:xlink": "http://www.w3.org/1999/xlink"})
    node = RESOURCES[name].node if name in RESOURCES else name

    def record(parent: ET.Element, rec: dict[str, Any], tag: str) -> None:
        element = ET.SubElement(parent, tag)
        for key, value in rec.items():
            if key == "associations":
                assoc = ET.SubElement(element, "associations")
                for assoc_name, rows in value.items():
                    holder = ET.SubElement(assoc, assoc_name, {"nodeType": assoc_name[:-1], "api": assoc_name})
                    for row in rows:
                        record(holder, row, assoc_name[:-1])
            else:
                ET.SubElement(element, key).text = "" if value is None else str(value)

    if shape == "one":
        record(root, data, name)
    else:
        holder = ET.SubElement(root, name)
        for rec in data:
            if shape == "ids":
                ET.SubElement(holder, node, {"id": str(rec["id"]),
                                             "xlink:href": f"{base_url}/api/{name}/{rec['id']}"})
            else:
                record(holder, rec, node)
    return _xml_text(root)


# ---- the "fashion" demo data (deploy/prestashop/demo_data.sql), for seeding ----------------------

DEMO_PRODUCTS = {1: ("demo_1", "23.900000"), 6: ("demo_11", "11.900000")}
DEMO_COMBINATIONS = {n: 1 for n in range(1, 9)}          # id_product_attribute -> id_product
# (id_stock_available, id_product, id_product_attribute, quantity)
DEMO_STOCK = [(1, 1, 0, 2400), *((n + 1, 1, n, 300) for n in range(1, 9)), (27, 6, 0, 300)]
# (id_order, reference, state history [(state, date_add)], lines [(id_order_detail, product, combination, qty)])
DEMO_ORDERS = [
    (1, "XKBKNABJK", [(1, "2024-03-01 09:15:00"), (6, "2024-03-02 10:00:00")], [(1, 1, 1, 1), (2, 2, 9, 1)]),
    (2, "OHSATSERP", [(1, "2024-03-03 14:20:00")], [(3, 4, 18, 2), (4, 8, 0, 1)]),
    (3, "UOYEVOLI", [(1, "2024-03-04 11:05:00"), (8, "2024-03-04 16:30:00")], [(5, 16, 28, 1)]),
    (4, "FFATNOMMJ", [(1, "2024-03-05 08:45:00")], [(6, 16, 29, 1)]),
    (5, "KHWLILZLL", [(10, "2024-03-06 17:10:00")], [(7, 10, 25, 1)]),
]


def seed_demo(server: PrestashopWebserviceServer, *, products: dict[int, tuple[str, str]] = DEMO_PRODUCTS,
              combinations: dict[int, int] = DEMO_COMBINATIONS, stock: list[tuple[int, int, int, int]] = DEMO_STOCK,
              orders: list = DEMO_ORDERS) -> PrestashopWebserviceServer:
    """Seed the rows the sink reads from the values given (by default, those of the demo fixture)."""
    server.add_order_states()
    for id_product, (reference, price) in products.items():
        server.add_product(id_product, reference, price)
    for id_attribute, id_product in combinations.items():
        server.add_combination(id_attribute, id_product, products[id_product][0], 0, default_on=id_attribute == 1)
    for record_id, id_product, id_attribute, quantity in stock:
        server.add_stock(id_product, id_attribute, quantity, record_id=record_id)
    for id_order, reference, history, lines in orders:
        server.add_order(reference, [(p, a, q) for _, p, a, q in lines], state=history[-1][0],
                         date_add=history[0][1], record_id=id_order, detail_ids=[d for d, *_ in lines],
                         history=history)
    return server
