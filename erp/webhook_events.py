"""What an ERP may push to the webhook receiver: one event per request, its JSON shape per kind,
and the sanity rules it must pass before anything is published. Pure: no I/O.

A request carries one event, so a refusal is all-or-nothing by construction: the sender is told
why (422, naming the event's key and id) and still holds the event; nothing goes to a dead-letter
topic, which is for records that no one is waiting on (the processors' input)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pssync.erp.base import Change, ChangeKind, OrderStatus, Price, Product, Shipment, StockLevel
from pssync.errors import PermanentError
from pssync.settings import WebhookSettings

# The widest values the erp.* Avro decimals carry (precision - scale digits before the point)
MAX_STOCK_DIGITS = 18 - 4
MAX_PRICE = Decimal(10) ** (20 - 6)


class InvalidEvent(PermanentError):
    """A pushed event that breaks its contract; the message names the event and the field."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=1, max_length=200)

    _check_event_id = field_validator("event_id")(_not_blank)


class StockEvent(_Event):
    sku: str = Field(min_length=1)
    erp_product_id: str
    quantity: Decimal
    on_hand: Decimal | None = None
    warehouse: str
    as_of: dt.datetime

    _check_sku = field_validator("sku")(_not_blank)


class PriceEvent(_Event):
    sku: str = Field(min_length=1)
    erp_product_id: str
    list_price: Decimal = Field(ge=0, lt=MAX_PRICE)
    currency: str = Field(min_length=3, max_length=3)
    changed_at: dt.datetime

    _check_sku = field_validator("sku")(_not_blank)


class ProductEvent(_Event):
    sku: str = Field(min_length=1)
    erp_product_id: str
    name: str
    active: bool
    changed_at: dt.datetime
    attributes: dict[str, str] = Field(default_factory=dict)

    _check_sku = field_validator("sku")(_not_blank)


class OrderStatusEvent(_Event):
    erp_order_id: str = Field(min_length=1)
    shop_reference: str | None = None
    state: str
    changed_at: dt.datetime

    _check_order = field_validator("erp_order_id")(_not_blank)


class ShipmentEvent(_Event):
    erp_shipment_id: str = Field(min_length=1)
    erp_order_id: str | None = None
    shop_reference: str | None = None
    state: str
    tracking_number: str | None = None
    carrier: str | None = None
    changed_at: dt.datetime

    _check_shipment = field_validator("erp_shipment_id")(_not_blank)


PAYLOADS: dict[str, tuple[ChangeKind, type[_Event]]] = {
    "stock": ("stock", StockEvent), "prices": ("price", PriceEvent),
    "products": ("product", ProductEvent), "order-status": ("order_status", OrderStatusEvent),
    "shipments": ("shipment", ShipmentEvent),
}
# The field whose value keys the event on its topic, per kind
KEY_FIELD: dict[str, str] = {"stock": "sku", "prices": "sku", "products": "sku",
                             "order-status": "erp_order_id", "shipments": "erp_shipment_id"}


def quantity_problems(name: str, value: Decimal, hook: WebhookSettings) -> list[str]:
    """Why a stock quantity cannot be published (empty when it can)."""
    if value < 0 and not hook.allow_negative_quantity:
        return [f"{name}: must not be negative, got {value} (erp.webhook.allow_negative_quantity "
                f"lets an over-committed ERP send it)"]
    if abs(value) > hook.max_quantity:
        return [f"{name}: {value} exceeds erp.webhook.max_quantity {hook.max_quantity}"]
    if value != value.to_integral_value() and not hook.allow_fractional_quantity:
        return [f"{name}: must be a whole number of units, got {value} "
                f"(erp.webhook.allow_fractional_quantity accepts decimals)"]
    return []


def limit_problems(event: _Event, hook: WebhookSettings) -> list[str]:
    """The sanity rules beyond the JSON shape."""
    if not isinstance(event, StockEvent):
        return []
    problems = quantity_problems("quantity", event.quantity, hook)
    if event.on_hand is not None:
        problems += quantity_problems("on_hand", event.on_hand, hook)
    return problems


def _describe(kind_name: str, payload: Any) -> str:
    """``stock event sku 'X' (event_id 'e')``, from whatever of the key and id the payload has."""
    parts = [f"{kind_name} event"]
    if isinstance(payload, dict):
        for name in (KEY_FIELD[kind_name], "event_id"):
            value = payload.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                parts.append(f"{name} {str(value)[:200]!r}")
    return " ".join(parts)


def parse_event(kind_name: str, payload: Any, hook: WebhookSettings) -> _Event:
    """The event of a webhook request of kind ``kind_name`` (a key of :data:`PAYLOADS`), or
    :class:`InvalidEvent` naming the event and every problem found."""
    try:
        event = PAYLOADS[kind_name][1].model_validate(payload)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors()]
    else:
        problems = limit_problems(event, hook)
        if not problems:
            return event
    raise InvalidEvent(f"invalid {_describe(kind_name, payload)}: {'; '.join(problems)}")


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def to_change(kind: ChangeKind, event: _Event) -> Change:
    data = event.model_dump(exclude={"event_id"})
    for name in ("as_of", "changed_at"):
        if name in data:
            data[name] = _utc(data[name])
    record: Any
    if kind == "stock":
        record, key, ts = StockLevel(**data), data["sku"], data["as_of"]
    elif kind == "price":
        record, key, ts = Price(**data), data["sku"], data["changed_at"]
    elif kind == "product":
        record, key, ts = Product(**data), data["sku"], data["changed_at"]
    elif kind == "order_status":
        record, key, ts = OrderStatus(**data), data["erp_order_id"], data["changed_at"]
    else:
        record, key, ts = Shipment(**data), data["erp_shipment_id"], data["changed_at"]
    return Change(kind, key, record, ts, event.event_id, f"webhook:{event.event_id}")
