"""Every ERP adapter the way the tests build it, each with an ERP-side driver.

An adapter is built against its ERP: Tryton against the real Tryton of the local stack (through a
TrytonGateway, which passes everything on and fails only when told to), Oracle Fusion, Infor M3
and the generic REST adapter against the local servers in tests/vendor_servers (written from the
vendors' documents). The driver does on the ERP side what a user of that ERP would: make
products, change prices and stock, ship orders; it reads the ERP's own state to check what the
adapter claims (orders with a reference, cancelled or not); and it makes the next calls fail the
way that ERP's network or API does. For Tryton the driver works through a separate session (not
through the gateway) with tests/integration/erp/tryton_support.py and devstack.erp_actions.

The per-vendor tests import the adapter options from here too, so there is one configuration of
each adapter."""
from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from pssync import devstack
from pssync.devstack import erp_actions
from pssync.erp.base import ErpAdapter, SalesOrder
from pssync.erp.infor import IONAPI_FIELDS
from pssync.erp.registry import build_adapter
from pssync.erp.tryton import TrytonAdapter
from tests.integration.erp import tryton_support
from tests.vendor_servers.base import Reply, VendorServer
from tests.vendor_servers.generic_erp import GenericErpServer
from tests.vendor_servers.infor_m3 import InforM3Server
from tests.vendor_servers.oracle_fusion import OracleFusionServer
from tests.vendor_servers.orders import sample_order

UTC = dt.timezone.utc
TRYTON, ORACLE, INFOR, REST = "tryton", "oracle_fusion", "infor", "rest"
ADAPTERS = (TRYTON, ORACLE, INFOR, REST)

Line = tuple[str, str, str]          # (sku, quantity, unit price)
Position = tuple[dt.datetime, str]   # a change feed cursor: (since, after_id)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


# -- adapter options against the local vendor servers (shared with the per-vendor tests) --------
ORACLE_SECRET = "fusion-s3cret"
INFOR_CS = "ion-s3cret"
INFOR_SASK = "svc-secret-key"
REST_SECRET = "acme-s3cret"


def oracle_options(server: OracleFusionServer, **overrides: Any) -> dict[str, Any]:
    base = dict(base_url=server.url, token_url=server.token_url, client_id=server.client_id,
                client_secret=server.client_secret, scope=server.scope,
                source_transaction_system="PSSHOP", business_unit="Vision Operations",
                organization_code="M1", timeout=2.0, retry_base_delay=0.05)
    return {**base, **overrides}


def infor_options(server: InforM3Server, **overrides: Any) -> dict[str, Any]:
    fields = {k: v for k, v in server.ionapi().items() if k in IONAPI_FIELDS}
    base = dict(fields, customer_number="SHOP01", order_type="WEB", facility="A01",
                warehouse="100", price_list="WEB", timeout=2.0, retry_base_delay=0.05)
    return {**base, **overrides}


def rest_config(server: GenericErpServer, **overrides: Any) -> dict[str, Any]:
    """The generic REST adapter configured for the local "Acme" JSON ERP."""
    feed = "?since={since}&after={after_id}&limit={limit}"
    base = dict(
        name="acme",
        base_url=server.url + "/api/v1",
        auth={"type": "oauth", "token_url": server.token_url, "client_id": server.client_id,
              "client_secret": server.client_secret},
        endpoints={
            "order_create": "POST /orders",
            "order_find": "GET /orders?reference={shop_reference}",
            "order_cancel": "POST /orders/{erp_order_id}/cancel",
            "stock_snapshot": "GET /stock?cursor={page}&per_page={page_size}",
            "changes.stock": "GET /stock/changes" + feed,
            "changes.order_status": "GET /orders/changes" + feed,
            "changes.price": "GET /items/changes" + feed,
            "changes.product": "GET /items/changes" + feed,
            "changes.shipment": "GET /shipments/changes" + feed,
        },
        fields={"stock.sku": "item.code", "stock.quantity": "qty_available",
                "stock.on_hand": "qty_on_hand", "stock.ts": "updated_at", "stock.row_id": "id",
                "stock.warehouse": "warehouse",
                "order_status": {"erp_order_id": "id", "state": "status", "ts": "updated_at",
                                 "shop_reference": "reference"},
                "price": {"sku": "sku", "list_price": "price", "currency": "currency",
                          "ts": "updated_at", "row_id": "id"},
                "product": {"sku": "sku", "name": "name", "active": "active",
                            "ts": "updated_at", "row_id": "id"},
                "shipment": {"erp_shipment_id": "id", "erp_order_id": "order_id",
                             "shop_reference": "order_reference", "tracking_number": "tracking",
                             "carrier": "carrier", "state": "status", "ts": "updated_at"}},
        responses={"order_create.id": "data.id", "order_find.id": "data.0.id",
                   "stock_snapshot.next_page": "next_cursor"},
        order_body={"reference": "{shop_reference}", "currency": "{currency}",
                    "customer": {"id": "{customer_id}", "email": "{customer_email}"},
                    "ship_to": {"name": "{shipping_name}", "city": "{shipping_city}",
                                "country": "{shipping_country_code}"},
                    "shipping": "{shipping_cost}", "lines": "{lines}",
                    "note": "Shop order {shop_reference}: {comment}"},
        order_line_body={"sku": "{sku}", "qty": "{quantity}", "price": "{unit_price}"},
        error_message="error.message", error_code="error.code",
        unknown_product_codes=["UNKNOWN_SKU"], timeout=2.0, retry_base_delay=0.05)
    return {**base, **overrides}


# -- the ERP side ---------------------------------------------------------------------------------
class Fault(Protocol):
    taken: int                       # how many calls the fault has answered so far


@dataclass(frozen=True)
class Refusal:
    """An order line the ERP refuses for a reason of its own, and how it says so."""
    line: Line
    message: str                     # the ERP's words, as the error must carry them
    code: str | None
    status: int | None


class ErpDriver(ABC):
    """What the contract suite does on the ERP side. Every batch method (set_price,
    receive_stock, touch_orders, ship, new_products) changes all its records at ONE instant of
    the ERP, so they share a change timestamp."""

    names: dict[str, str]
    validation_message: str = ""     # what the ERP says when fail_next(..., "validation")

    # the ERP's clock
    @abstractmethod
    def checkpoint(self) -> Position:
        """A feed position after every change made so far and before every change made later."""

    # catalogue and stock
    @abstractmethod
    def new_products(self, n: int, price: Decimal = Decimal("10.00")) -> list[str]:
        """``n`` new orderable products of the test's own, without stock; their SKUs."""

    @abstractmethod
    def set_price(self, skus: list[str], price: Decimal) -> None: ...

    @abstractmethod
    def receive_stock(self, skus: list[str], quantity: int) -> None:
        """Each SKU gains ``quantity`` available (new products: then have exactly that)."""

    @abstractmethod
    def stock_skus(self) -> set[str]:
        """Every SKU the adapter's stock snapshot must report, from the ERP's own records."""

    # orders
    def order(self, *lines: Line) -> SalesOrder:
        return sample_order(unique("PS-"), lines=lines)

    @abstractmethod
    def refused_line(self) -> Refusal: ...

    @abstractmethod
    def orders_with_reference(self, shop_reference: str) -> list[str]:
        """ERP ids of every order the ERP holds for that shop reference, cancelled ones too."""

    @abstractmethod
    def is_cancelled(self, erp_order_id: str) -> bool: ...

    @abstractmethod
    def order_state(self, erp_order_id: str) -> str:
        """The order's state in the ERP's own words, as OrderStatus.state must carry it."""

    @abstractmethod
    def touch_orders(self, erp_order_ids: list[str]) -> None:
        """A user edits these orders together (one instant): each shows up in the status feed."""

    @abstractmethod
    def ship(self, orders: dict[str, tuple[str, str]]) -> None:
        """Ship these orders (erp id -> (shop reference, tracking number)) at one instant."""

    @abstractmethod
    def create_attempts(self) -> int:
        """How many times an order creation reached the ERP."""

    # the ERP's network and API failing
    @abstractmethod
    def fail_next(self, n: int, kind: str, *, retry_after: str | None = None) -> Fault:
        """The next ``n`` calls fail: "429"/"503" (with Retry-After if given), "timeout",
        "validation" (a permanent refusal, where the ERP can be made to give one)."""

    @abstractmethod
    def lose_next_create_reply(self) -> Fault:
        """The ERP creates the next order but its reply never reaches the adapter (504)."""

    @abstractmethod
    def mark(self) -> int: ...

    @abstractmethod
    def row_stamps(self, since_mark: int) -> list[dt.datetime]:
        """The change timestamp of every record the ERP sent to the adapter since ``mark()``."""

    @abstractmethod
    def secrets(self) -> set[str]:
        """Credentials the adapter holds (configured secrets, tokens the ERP issued to it)."""

    def close(self) -> None:
        pass


class TrytonDriver(ErpDriver):
    def __init__(self, stack: devstack.StackSettings, gateway: tryton_support.TrytonGateway) -> None:
        self.erp = erp_actions.tryton(stack)        # its own session, not through the gateway
        self.gateway = gateway
        self.names: dict[str, str] = {}
        self.made: list[str] = []

    def checkpoint(self) -> Position:
        # trytond (SQLite) stamps rows with the server's clock at transaction start: the same
        # clock as ours, so now is after every committed change and before every later one
        return dt.datetime.now(UTC), ""

    def new_products(self, n: int, price: Decimal = Decimal("10.00"), salable: bool = True,
                     ) -> list[str]:
        codes = tryton_support.new_products(self.erp, n, str(price), salable=salable)
        self.made += codes
        self.names.update({c: tryton_support.product_name(c) for c in codes})
        return codes

    def set_price(self, skus: list[str], price: Decimal) -> None:
        erp_actions.set_price(self.erp, price, *skus)

    def receive_stock(self, skus: list[str], quantity: int) -> None:
        tryton_support.receive_together(self.erp, {sku: quantity for sku in skus})

    def stock_skus(self) -> set[str]:
        rows = self.erp.search_read("product.product", [("type", "=", "goods")], ["code"])
        return {r["code"] for r in rows if r["code"]}

    def order(self, *lines: Line) -> SalesOrder:
        return tryton_support.shop_order(*lines)

    def refused_line(self) -> Refusal:
        (sku,) = self.new_products(1, salable=False)   # Tryton sells only salable products
        return Refusal((sku, "1", "5.00"), "is not valid according to its domain", "UserError",
                       None)

    def orders_with_reference(self, shop_reference: str) -> list[str]:
        rows = self.erp.search_read("sale.sale", [("reference", "=", shop_reference)], ["id"],
                                    order=[("id", "ASC")])
        return [str(r["id"]) for r in rows]

    def is_cancelled(self, erp_order_id: str) -> bool:
        """Cancelled, or (a sale Tryton had processed) withdrawn: done with nothing shipped or invoiced."""
        [sale] = self.erp.search_read("sale.sale", [("id", "=", int(erp_order_id))],
                                      ["state", "shipment_state", "invoice_state"])
        return sale["state"] == "cancelled" or (sale["state"], sale["shipment_state"], sale["invoice_state"]) \
            == ("done", "none", "none")

    def order_state(self, erp_order_id: str) -> str:
        rows = self.erp.search_read("sale.sale", [("id", "=", int(erp_order_id))], ["state"])
        return rows[0]["state"]

    def touch_orders(self, erp_order_ids: list[str]) -> None:
        self.erp.call("sale.sale", "write", [int(i) for i in erp_order_ids],
                      {"comment": "edited in Tryton"})

    def ship(self, orders: dict[str, tuple[str, str]]) -> None:
        tryton_support.ship_together(self.erp, dict(orders.values()))

    def create_attempts(self) -> int:
        return self.gateway.calls.count("model.sale.sale.create")

    def fail_next(self, n: int, kind: str, *, retry_after: str | None = None) -> Fault:
        if kind not in ("429", "503", "timeout"):
            raise ValueError(f"the Tryton gateway simulates transport failures only, not {kind!r}")
        return self.gateway.fail_next(n, kind, retry_after=retry_after)

    def lose_next_create_reply(self) -> Fault:
        return self.gateway.fail_next(1, "lost_reply", rpc="model.sale.sale.create")

    def mark(self) -> int:
        return len(self.gateway.served)

    def row_stamps(self, since_mark: int) -> list[dt.datetime]:
        return self.gateway.row_stamps(since_mark)

    def secrets(self) -> set[str]:
        # the configured password is the stack's "admin", the same word as the user name: not
        # something a message can be checked for; the live session credentials are
        return set(self.gateway.authorizations)

    def close(self) -> None:
        try:
            tryton_support.retire_products(self.erp, self.made)
        finally:
            self.erp.close()
            self.gateway.shut()


class VendorDriver(ErpDriver):
    """What the local vendor servers share: their clock, fault switches and call log."""

    create_path: str = ""
    create_method: str = "POST"
    configured_secrets: tuple[str, ...] = ()

    def __init__(self, server: VendorServer) -> None:
        self.server: Any = server
        self.names: dict[str, str] = {}
        server.timeout_delay = 1.5      # a "timeout" stalls longer than the adapters wait

    def checkpoint(self) -> Position:
        return self.server.now(), ""    # the servers' clocks step one second per change

    def _products(self, n: int) -> list[str]:
        skus = [unique("IT-") for _ in range(n)]
        self.names.update({sku: f"Item {sku}" for sku in skus})
        return skus

    def create_attempts(self) -> int:
        with self.server.lock:
            return sum(1 for c in self.server.calls if c.path.endswith(self.create_path)
                       and c.method == self.create_method)

    def fail_next(self, n: int, kind: str, *, retry_after: str | None = None) -> Fault:
        return self.server.fail_next(n, kind, retry_after=retry_after)

    def lose_next_create_reply(self) -> Fault:
        return self.server.fail_next(1, "lost_reply", path_contains=self.create_path,
                                     method=self.create_method)

    def mark(self) -> int:
        return len(self.server.served)

    def row_stamps(self, since_mark: int) -> list[dt.datetime]:
        with self.server.lock:
            replies = [reply for _, reply in self.server.served[since_mark:]]
        return [stamp for reply in replies for stamp in self.stamps(reply)]

    @abstractmethod
    def stamps(self, reply: Reply) -> list[dt.datetime]: ...

    def secrets(self) -> set[str]:
        return set(self.configured_secrets) | set(self.server.tokens)

    def close(self) -> None:
        self.server.stop()


class OracleDriver(VendorDriver):
    create_path = "/salesOrdersForOrderHub"
    validation_message = ("The value of the attribute BuyingPartyNumber isn't valid. "
                          "(DOO-2684211)")
    server: OracleFusionServer

    def __init__(self, server: OracleFusionServer) -> None:
        super().__init__(server)
        self.configured_secrets = (server.client_secret,)

    def new_products(self, n: int, price: Decimal = Decimal("10.00")) -> list[str]:
        ts = self.server.now()
        skus = self._products(n)
        for sku in skus:
            self.server.add_item(sku, self.names[sku], str(price), ts)
        return skus

    def set_price(self, skus: list[str], price: Decimal) -> None:
        ts = self.server.now()
        for sku in skus:
            self.server.update_item(sku, ts, ListPrice=float(price))

    def receive_stock(self, skus: list[str], quantity: int) -> None:
        ts = self.server.now()
        for sku in skus:
            self.server.set_balance(sku, str(quantity), ts)

    def stock_skus(self) -> set[str]:
        return {b["ItemNumber"] for b in self.server.balances if b["OrganizationCode"] == "M1"}

    def refused_line(self) -> Refusal:
        (sku,) = self.new_products(1)
        return Refusal((sku, "0", "1.00"), "The ordered quantity must be positive. (DOO-2685380)",
                       "DOO-2685380", 400)

    def orders_with_reference(self, shop_reference: str) -> list[str]:
        return [str(o["HeaderId"]) for o in self.server.order_by_reference(shop_reference)]

    def is_cancelled(self, erp_order_id: str) -> bool:
        return self.order_state(erp_order_id) == "CANCELED"

    def order_state(self, erp_order_id: str) -> str:
        return self.server.orders[int(erp_order_id)]["StatusCode"]

    def touch_orders(self, erp_order_ids: list[str]) -> None:
        ts = self.server.now()
        for erp_id in erp_order_ids:
            self.server.touch_order(int(erp_id), ts)

    def ship(self, orders: dict[str, tuple[str, str]]) -> None:
        ts = self.server.now()
        for erp_id, (_, tracking) in orders.items():
            self.server.add_shipment(self.server.orders[int(erp_id)], tracking, ts)

    def stamps(self, reply: Reply) -> list[dt.datetime]:
        items = reply.body.get("items") if isinstance(reply.body, dict) else None
        return [dt.datetime.fromisoformat(i["LastUpdateDate"]) for i in items or []
                if i.get("LastUpdateDate")]


class InforDriver(VendorDriver):
    create_path = "/AddBatchHead"
    create_method = "GET"                # MI transactions are GETs with query fields
    validation_message = "Customer number SHOP99 does not exist (field CUNO, code WCUNO03)"

    def __init__(self, server: InforM3Server) -> None:
        super().__init__(server)
        self.configured_secrets = (server.cs, server.sask)

    def lose_next_create_reply(self) -> Fault:
        # OIS100MI/Confirm turns the batch into the customer order
        return self.server.fail_next(1, "lost_reply", path_contains="/Confirm")

    def new_products(self, n: int, price: Decimal = Decimal("10.00")) -> list[str]:
        ts = self.server.now()
        skus = self._products(n)
        for sku in skus:
            self.server.add_item(sku, self.names[sku], ts)
            self.server.set_price(sku, str(price), ts)
        return skus

    def set_price(self, skus: list[str], price: Decimal) -> None:
        ts = self.server.now()
        for sku in skus:
            self.server.set_price(sku, str(price), ts)

    def receive_stock(self, skus: list[str], quantity: int) -> None:
        ts = self.server.now()
        for sku in skus:
            self.server.set_balance(sku, str(quantity), ts)

    def stock_skus(self) -> set[str]:
        return {b["ITNO"] for b in self.server.balances if b["WHLO"] == "100"}

    def refused_line(self) -> Refusal:
        (sku,) = self.new_products(1)
        return Refusal((sku, "0", "1"),
                       "Ordered quantity must be greater than zero (field ORQT, code WORQT01)",
                       "WORQT01", 200)          # MI errors come back inside an HTTP 200

    def orders_with_reference(self, shop_reference: str) -> list[str]:
        return [o["ORNO"] for o in self.server.orders_with_reference(shop_reference)]

    def is_cancelled(self, erp_order_id: str) -> bool:
        return self.server.orders[erp_order_id]["ORST"] == "90"

    def order_state(self, erp_order_id: str) -> str:
        order = self.server.orders[erp_order_id]     # lowest-highest status of its lines
        return f"{order['ORSL']}-{order['ORST']}"

    def touch_orders(self, erp_order_ids: list[str]) -> None:
        ts = self.server.now()
        for orno in erp_order_ids:
            self.server.touch_order(orno, ts)

    def ship(self, orders: dict[str, tuple[str, str]]) -> None:
        ts = self.server.now()
        for orno, (_, tracking) in orders.items():
            self.server.add_delivery(orno, tracking, ts)

    def stamps(self, reply: Reply) -> list[dt.datetime]:
        results = reply.body.get("results") if isinstance(reply.body, dict) else None
        return [dt.datetime.fromtimestamp(int(r["LMTS"]) / 1000, UTC)
                for result in results or [] for r in result.get("records") or []
                if str(r.get("LMTS", "")).isdigit()]


class AcmeDriver(VendorDriver):
    create_path = "/api/v1/orders"
    validation_message = "customer.email is not a valid address"

    def __init__(self, server: GenericErpServer) -> None:
        super().__init__(server)
        self.configured_secrets = (server.client_secret,)

    def new_products(self, n: int, price: Decimal = Decimal("10.00")) -> list[str]:
        ts = self._now()
        skus = self._products(n)
        for sku in skus:
            self.server.add_item(sku, self.names[sku], str(price), ts)
        return skus

    def _now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.server.now().replace("Z", "+00:00"))

    def checkpoint(self) -> Position:
        return self._now(), ""

    def set_price(self, skus: list[str], price: Decimal) -> None:
        ts = self._now()
        for sku in skus:
            self.server.update_item(sku, ts, price=str(price))

    def receive_stock(self, skus: list[str], quantity: int) -> None:
        ts = self._now()
        for sku in skus:
            self.server.set_stock(sku, quantity, ts)

    def stock_skus(self) -> set[str]:
        return {row["item"]["code"] for row in self.server.stock}

    def refused_line(self) -> Refusal:
        (sku,) = self.new_products(1)
        return Refusal((sku, "0", "1"), "lines[0].qty must be a positive number", "VALIDATION",
                       422)

    def orders_with_reference(self, shop_reference: str) -> list[str]:
        return [str(o["id"]) for o in self.server.with_reference(shop_reference)]

    def is_cancelled(self, erp_order_id: str) -> bool:
        return self.order_state(erp_order_id) == "cancelled"

    def order_state(self, erp_order_id: str) -> str:
        return self.server.orders[int(erp_order_id)]["status"]

    def touch_orders(self, erp_order_ids: list[str]) -> None:
        ts = self._now()
        for erp_id in erp_order_ids:
            self.server.touch_order(int(erp_id), ts)

    def ship(self, orders: dict[str, tuple[str, str]]) -> None:
        ts = self._now()
        for erp_id, (_, tracking) in orders.items():
            self.server.add_shipment(int(erp_id), tracking, ts)

    def stamps(self, reply: Reply) -> list[dt.datetime]:
        body = reply.body if isinstance(reply.body, dict) else {}
        rows = body.get("items") or body.get("data") or []
        return [dt.datetime.fromisoformat(r["updated_at"].replace("Z", "+00:00"))
                for r in rows if isinstance(r, dict) and r.get("updated_at")]


# -- adapter + driver -----------------------------------------------------------------------------
@dataclass
class Subject:
    """One adapter under test, its ERP-side driver, and how to build variants of the adapter
    (fewer retry attempts, a shorter timeout, wrong credentials) against the same ERP."""
    name: str
    adapter: ErpAdapter
    driver: ErpDriver
    build: Callable[..., tuple[ErpAdapter, set[str]]]
    extra_secrets: set[str] = field(default_factory=set)
    _opened: list[ErpAdapter] = field(default_factory=list)

    def variant(self, *, attempts: int | None = None, timeout: float | None = None,
                wrong_credentials: bool = False) -> ErpAdapter:
        adapter, secrets = self.build(attempts=attempts, timeout=timeout,
                                      wrong_credentials=wrong_credentials)
        self.extra_secrets |= secrets
        self._opened.append(adapter)
        return adapter

    def secrets(self) -> set[str]:
        return self.driver.secrets() | self.extra_secrets

    def close(self) -> None:
        try:
            for adapter in [self.adapter, *self._opened]:
                adapter.close()
        finally:
            self.driver.close()


def _tryton(stack: devstack.StackSettings) -> Subject:
    gateway = tryton_support.TrytonGateway()

    def build(attempts: int | None = None, timeout: float | None = None,
              wrong_credentials: bool = False) -> tuple[ErpAdapter, set[str]]:
        options: dict[str, Any] = {}
        secrets: set[str] = set()
        if attempts is not None:
            options["attempts"] = attempts
        if timeout is not None:
            options["timeout"] = timeout
        if wrong_credentials:
            # a login of its own (trytond slows down repeated failures of one login)
            password = unique("wrong-pw-")
            options.update(user=unique("pssync-nobody-").lower(), password=password)
            secrets.add(password)
        return tryton_support.adapter(stack, transport=gateway, **options), secrets

    adapter: TrytonAdapter = build()[0]  # type: ignore[assignment]
    return Subject(TRYTON, adapter, TrytonDriver(stack, gateway), build)


def _vendor(name: str, server: Any, driver: VendorDriver,
            options: Callable[..., dict[str, Any]], secret_key: str, wrong: Any,
            **fixed: Any) -> Subject:
    def build(attempts: int | None = None, timeout: float | None = None,
              wrong_credentials: bool = False) -> tuple[ErpAdapter, set[str]]:
        overrides = dict(fixed)
        secrets: set[str] = set()
        if attempts is not None:
            overrides["retry_attempts"] = attempts
        if timeout is not None:
            overrides["timeout"] = timeout
        if wrong_credentials:
            value, secret = wrong()
            overrides[secret_key] = value
            secrets.add(secret)
        return build_adapter(name, options(server, **overrides)), secrets

    return Subject(name, build()[0], driver, build)


def _wrong_secret() -> tuple[str, str]:
    secret = unique("wrong-s3cret-")
    return secret, secret


def open_subject(name: str, stack: devstack.StackSettings | None = None) -> Subject:
    if name == TRYTON:
        assert stack is not None, "the Tryton subject needs the local stack"
        return _tryton(stack)
    if name == ORACLE:
        oracle = OracleFusionServer(client_secret=ORACLE_SECRET).start()
        # page_size 2: the adapter's own paging of Oracle collections is exercised too
        return _vendor(ORACLE, oracle, OracleDriver(oracle), oracle_options, "client_secret",
                       _wrong_secret, page_size=2)
    if name == INFOR:
        infor = InforM3Server(cs=INFOR_CS, sask=INFOR_SASK).start()
        return _vendor(INFOR, infor, InforDriver(infor), infor_options, "sask", _wrong_secret)
    if name == REST:
        acme = GenericErpServer(client_secret=REST_SECRET).start()

        def wrong_auth() -> tuple[dict[str, str], str]:
            secret = unique("wrong-s3cret-")
            return ({"type": "oauth", "token_url": acme.token_url, "client_id": acme.client_id,
                     "client_secret": secret}, secret)

        return _vendor(REST, acme, AcmeDriver(acme), rest_config, "auth", wrong_auth)
    raise ValueError(f"unknown adapter {name!r}")
