"""Where each event goes: the processors' two internal topics and the key that partitions them.

The source topics (one per shop table, ERP topics, acknowledgements) may have any number of
partitions, keyed by their own primary keys. The processors look rows up across them (an order's
lines and history; a product's ERP level and the shop's order lines), so a stateless router first
copies every event to an internal topic partitioned by the key the lookup needs:

- ``shop-events``: order rows (header, lines, history) and ERP acknowledgements by ``order:<id_order>``;
  ERP levels, prices and product flags by ``sku:<sku>``; product rows and shop stock rows by
  ``product:<id_product>``; ERP order states and shipments by ``erp-order:<id>``. Reference rows every order may need (customers, addresses, currencies,
  configuration, the product mapping) are copied to every partition (``BROADCAST``).
- ``stock-events``: everything a product's stock book needs, by ``product:<id_product>``: ERP levels
  and order lines resolved to the product by the shop-events processor, mapping rows (an update that
  moves a row to another product goes to both), shop stock rows.

Every table the processors keep is written while processing one of these two topics, so each key's
state lives in the partition its events arrive on (Faust writes a table change to the partition of
the event being processed). Pure functions here; the router is streams.router, the processors
the handlers streams.dispatch hands each kind to (streams.worker builds them).
"""
from __future__ import annotations

from typing import Any, Literal

from pssync.schemas.headers import KIND_HEADER, header  # noqa: F401  (the hubs read them here too)
from pssync.errors import PermanentError

BROADCAST = None                  # route to every partition of the hub

Hub = Literal["shop", "stock"]

ORDER_TABLES = ("orders", "order_detail", "order_history")
BROADCAST_TABLES = ("customer", "address", "currency", "configuration", "pssync_product_map")
PRODUCT_TABLES = ("product", "product_shop", "product_attribute", "specific_price", "stock_available")
ERP_KINDS = ("erp.stock", "erp.price", "erp.product")
ERP_STATE_KINDS = ("erp.order_status", "erp.shipment")   # need no lookup: by ERP order, for order
ACKS = "acks"


class Unroutable(PermanentError, ValueError):
    """An event without the field its route needs (named in the message)."""


APP_VERSION = 4   # a new version is a new consumer group and new internal and changelog topics


def app_name(capture_name: str) -> str:
    return f"pssync-streams-{capture_name}"


def app_id(capture_name: str) -> str:
    """Faust's id of the application (its name and version): the prefix of its internal topics."""
    return f"{app_name(capture_name)}-v{APP_VERSION}"


def hub_topic_name(app_id: str, hub: Hub) -> str:
    return f"{app_id}-{hub}-events"


def order_key(id_order: Any) -> str:
    return f"order:{int(id_order)}"


def sku_key(sku: str) -> str:
    return f"sku:{sku}"


def product_key(id_product: Any) -> str:
    return f"product:{int(id_product)}"


def _field(row: dict[str, Any] | None, name: str, kind: str) -> Any:
    if row is None or row.get(name) is None:
        raise Unroutable(f"{kind} event has no {name}")
    return row[name]


def routes(kind: str, event: dict[str, Any]) -> list[tuple[Hub, str | None]]:
    """The (hub, key) pairs an event is copied to; key None means every partition.

    ``event`` is the decoded value: a change event (``before``/``after``) for shop tables, the ERP
    change for ERP kinds, the acknowledgement for ``acks``."""
    if kind in ORDER_TABLES:
        row = event.get("after") or event.get("before")
        return [("shop", order_key(_field(row, "id_order", kind)))]
    if kind == "pssync_product_map":
        row = event.get("after") or event.get("before")
        out: list[tuple[Hub, str | None]] = [("shop", BROADCAST), ("stock", product_key(_field(row, "id_product", kind)))]
        before = event.get("before")
        if event.get("after") and before and before.get("id_product") is not None and \
                int(before["id_product"]) != int(row["id_product"]):
            out.append(("stock", product_key(before["id_product"])))   # the row moved: its old product too
        return out
    if kind in BROADCAST_TABLES:
        return [("shop", BROADCAST)]
    if kind in PRODUCT_TABLES:
        row = event.get("after") or event.get("before")
        return [("shop", product_key(_field(row, "id_product", kind)))]
    if kind in ERP_KINDS:
        return [("shop", sku_key(_field(event, "sku", kind)))]
    if kind in ERP_STATE_KINDS:
        return [("shop", f"erp-order:{_field(event, 'erp_order_id', kind)}")]
    if kind == ACKS:
        return [("shop", order_key(_field(event, "id_order", kind)))]
    raise Unroutable(f"no route for {kind!r} events")


def kind_of(header_value: bytes | str | None) -> str:
    if header_value is None:
        return ""
    return header_value.decode() if isinstance(header_value, bytes) else header_value
