"""The one interface every ERP adapter implements, and the records that cross it.

Quantities and money are Decimal, times are aware UTC datetimes, and every record carries the
ERP's stable external id (``sku`` for products: the ERP product code)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

ChangeKind = Literal["stock", "price", "product", "order_status", "shipment"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("stock", "price", "product", "order_status", "shipment")


@dataclass(frozen=True)
class Cursor:
    """High-water mark of a change feed: a timestamp AND an id, so rows sharing a timestamp are
    never skipped; ``recent`` holds (version, ts) of what was emitted inside the overlap window,
    so re-reading that window for late commits emits nothing twice."""
    ts: dt.datetime | None = None
    id: str = ""
    recent: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts.isoformat() if self.ts else None, "id": self.id,
                "recent": [list(r) for r in self.recent]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Cursor":
        if not data:
            return cls()
        ts = dt.datetime.fromisoformat(data["ts"]) if data.get("ts") else None
        return cls(ts, str(data.get("id", "")), tuple(tuple(r) for r in data.get("recent", ())))


@dataclass(frozen=True)
class StockLevel:
    sku: str
    erp_product_id: str
    quantity: Decimal            # available to promise in the ERP's warehouse
    warehouse: str
    as_of: dt.datetime
    on_hand: Decimal | None = None


@dataclass(frozen=True)
class Price:
    sku: str
    erp_product_id: str
    list_price: Decimal
    currency: str
    changed_at: dt.datetime


@dataclass(frozen=True)
class Product:
    sku: str
    erp_product_id: str
    name: str
    active: bool
    changed_at: dt.datetime
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderStatus:
    erp_order_id: str
    shop_reference: str | None   # the shop order reference the ERP order was created from
    state: str                   # the ERP's own state name; mapped to shop states downstream
    changed_at: dt.datetime


@dataclass(frozen=True)
class Shipment:
    erp_shipment_id: str
    erp_order_id: str | None
    shop_reference: str | None
    state: str
    tracking_number: str | None
    carrier: str | None
    changed_at: dt.datetime


Record = StockLevel | Price | Product | OrderStatus | Shipment


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    key: str                     # the stable external id the topic is keyed by
    record: Record
    ts: dt.datetime              # the source row's change timestamp (aware UTC)
    row_id: str                  # the source row's id: with ts, the keyset position
    version: str                 # identity of this version of the source row (de-duplication)


@dataclass(frozen=True)
class StockPage:
    levels: list[StockLevel]
    next_page: str | None        # opaque token; None when this was the last page


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    postal_code: str
    city: str
    country_code: str            # ISO 3166-1 alpha-2
    street2: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Customer:
    external_id: str             # e.g. PS-CUST-<id_customer>
    name: str
    email: str
    company: str = ""


@dataclass(frozen=True)
class SalesOrderLine:
    sku: str
    quantity: Decimal
    unit_price: Decimal          # tax excluded
    description: str = ""


@dataclass(frozen=True)
class SalesOrder:
    shop_reference: str          # unique per shop order: the idempotency key on the ERP side
    customer: Customer
    currency: str
    lines: tuple[SalesOrderLine, ...]
    invoice_address: Address
    shipment_address: Address
    ordered_at: dt.datetime
    shipping_cost: Decimal = Decimal(0)
    comment: str = ""


@dataclass(frozen=True)
class SalesOrderResult:
    erp_order_id: str
    created: bool                # False: an order with this shop reference already existed


class ErpAdapter(Protocol):
    name: str

    def changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                limit: int = 500) -> list[Change]:
        """Changes of one kind whose (ts, row_id) sorts after (since, after_id), ordered by
        (ts, row_id), at most ``limit``. Row ids compare as the adapter orders them (it pads
        numeric ids). ``since`` None means from the beginning."""
        ...

    def stock_snapshot(self, page: str | None = None, page_size: int = 500) -> StockPage: ...

    def find_sales_order(self, shop_reference: str) -> str | None: ...

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        """Idempotent: an existing order with the same shop reference is returned, not duplicated."""
        ...

    def cancel_sales_order(self, shop_reference: str) -> str:
        """Cancel the ERP order created from ``shop_reference``; returns its ERP id."""
        ...

    def check(self) -> None:
        """Reach the ERP with the configured credentials (log in, fetch a token): called at start
        by the ERP capture and the ERP sink, so a refused password stops them at once in one line
        (ErpLoginRefused, or a PermanentErpError with code "auth") rather than at the first record."""
        ...

    def close(self) -> None: ...
