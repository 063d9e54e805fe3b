"""ERP topics: names, schemas and the event built from each ERP record."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pssync import schemas
from pssync.bus.avro import AvroEncoder
from pssync.bus.registry import Registry
from pssync.schemas.topics import ERP_TOPICS, erp_topic
from pssync.erp.base import Change, ChangeKind, OrderStatus, Price, Product, Shipment, StockLevel

TOPICS: dict[ChangeKind, str] = ERP_TOPICS   # type: ignore[assignment]
SCHEMAS: dict[ChangeKind, str] = {
    "stock": "erp_stock", "price": "erp_price", "product": "erp_product",
    "order_status": "erp_order_status", "shipment": "erp_shipment",
}
QTY = Decimal("0.0001")
MONEY = Decimal("0.000001")


topic_name = erp_topic


def _ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


@dataclass(frozen=True)
class SnapshotPart:
    snapshot_id: str
    position: int
    total: int | None


def record_value(record: Any, erp: str, version: str, snapshot: SnapshotPart | None = None) -> dict[str, Any]:
    common = {"erp": erp, "version": version, "captured_at": _ms(dt.datetime.now(dt.timezone.utc))}
    if isinstance(record, StockLevel):
        return {"sku": record.sku, "erp_product_id": record.erp_product_id,
                "quantity": record.quantity.quantize(QTY),
                "on_hand": record.on_hand.quantize(QTY) if record.on_hand is not None else None,
                "warehouse": record.warehouse, "as_of": _ms(record.as_of),
                "mode": "snapshot" if snapshot else "delta",
                "snapshot_id": snapshot.snapshot_id if snapshot else None,
                "snapshot_position": snapshot.position if snapshot else None,
                "snapshot_total": snapshot.total if snapshot else None, **common}
    if isinstance(record, Price):
        return {"sku": record.sku, "erp_product_id": record.erp_product_id,
                "list_price": record.list_price.quantize(MONEY), "currency": record.currency,
                "changed_at": _ms(record.changed_at), **common}
    if isinstance(record, Product):
        return {"sku": record.sku, "erp_product_id": record.erp_product_id, "name": record.name,
                "active": record.active, "changed_at": _ms(record.changed_at),
                "attributes": dict(record.attributes), **common}
    if isinstance(record, OrderStatus):
        return {"erp_order_id": record.erp_order_id, "shop_reference": record.shop_reference,
                "state": record.state, "changed_at": _ms(record.changed_at), **common}
    if isinstance(record, Shipment):
        return {"erp_shipment_id": record.erp_shipment_id, "erp_order_id": record.erp_order_id,
                "shop_reference": record.shop_reference, "state": record.state,
                "tracking_number": record.tracking_number, "carrier": record.carrier,
                "changed_at": _ms(record.changed_at), **common}
    raise TypeError(f"not an ERP record: {record!r}")


# Fields of an event that say when or how it was captured, not what the ERP says about its key
NOT_CONTENT = frozenset({"as_of", "changed_at", "erp", "version", "captured_at", "mode", "snapshot_id",
                         "snapshot_position", "snapshot_total"})


def content_digest(record: Any) -> str:
    """Digest of what an event of ``record`` says about its key, as the topic carries it (quantities
    and money rounded the way they are written), leaving out the measurement or change timestamp
    and the capture's own fields: two records with the same digest write the same values."""
    values = {k: v for k, v in record_value(record, "", "").items() if k not in NOT_CONTENT}
    canonical = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


class ErpEncoders:
    """Registers the ERP schemas (BACKWARD compatibility enforced) and encodes events."""

    def __init__(self, registry: Registry, prefix: str) -> None:
        self.prefix = prefix
        self._key: dict[ChangeKind, AvroEncoder] = {}
        self._value: dict[ChangeKind, AvroEncoder] = {}
        for kind in TOPICS:
            topic = topic_name(prefix, kind)
            key_schema, value_schema = schemas.load("erp_key"), schemas.load(SCHEMAS[kind])
            self._key[kind] = AvroEncoder(registry.register(f"{topic}-key", key_schema), key_schema)
            self._value[kind] = AvroEncoder(registry.register(f"{topic}-value", value_schema), value_schema)

    def encode(self, change: Change, erp: str, snapshot: SnapshotPart | None = None) -> tuple[str, bytes, bytes]:
        kind = change.kind
        return (topic_name(self.prefix, kind), self._key[kind].encode({"id": change.key}),
                self._value[kind].encode(record_value(change.record, erp, change.version, snapshot)))
