"""Plain stand-ins for what the hubs are given in the worker: dicts for their tables, recording
topics for their outputs, a fixed clock; and builders of the events they take."""
from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path
from typing import Any

from pssync.streams.dispatch import ShopEvents, StockEvents
from pssync.streams.erp_states import ErpStates
from pssync.streams.erp_values import ErpValues
from pssync.streams.orders import OrderMapping
from pssync.streams.order_waits import OrderWaits
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.product_mapping import ProductMapping
from pssync.streams.retention import Retention
from pssync.streams.routes import KIND_HEADER
from pssync.streams.rules import Rules, columns_from_ddl, load_rules
from pssync.streams.state import ShopState, StockState
from pssync.streams.stock_facts import StockFacts
from pssync.streams.stock_hub import StockHub
from tests.unit.streams.recording import Recorder, run

ROOT = Path(__file__).resolve().parents[3]
UTC = dt.timezone.utc
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
STATES = {"shipped": "PS_OS_SHIPPING", "done": "PS_OS_DELIVERED"}


def change(after: dict[str, Any] | None, before: dict[str, Any] | None = None, op: str | None = None,
           ts_ms: int = 1_714_560_000_000, gtid: str | None = "0-1-100") -> dict[str, Any]:
    """A decoded change event as the capture writes it."""
    return {"op": op or ("c" if before is None else "u" if after is not None else "d"), "before": before,
            "after": after, "source": {"ts_ms": ts_ms, "gtid": gtid}}


def mapping_row(id_product: int, attribute: int, sku: str) -> dict[str, Any]:
    """A pssync_product_map row (erp/mapping.py)."""
    return {"erp": "tryton", "id_product": id_product, "id_product_attribute": attribute, "sku": sku,
            "erp_product_id": "1", "source": "manual"}


def order_mapping(**changes: Any) -> OrderMapping:
    base = OrderMapping.from_yaml((ROOT / "deploy" / "order_mapping.yaml").read_text())
    return base.model_copy(update=changes)


def default_rules() -> Rules:
    return load_rules(ROOT / "deploy" / "rules.yaml", columns_from_ddl(ROOT / "deploy" / "prestashop" / "schema.sql"))


class Shop:
    """The shop-events handlers over in-memory tables, as streams.worker wires them (one partition
    unless told); ``events`` takes whole records (values are pickled events, decode = pickle)."""

    def __init__(self, *, partitions: int = 1, reassert: bool = True, retention_days: float = 90,
                 mapping: OrderMapping | None = None, now: dt.datetime = NOW, wait_timeout_s: float = 60) -> None:
        self.clock = [now]
        self.state = ShopState.in_memory()
        self.rec = Recorder()
        out = self.rec.outputs
        self.mapping = mapping or order_mapping()
        self.waits = OrderWaits(self.state, out, timeout_s=wait_timeout_s, now=self.now)
        self.orders = OrderAssembly(self.state, self.mapping, out, self.waits)
        self.facts = StockFacts(self.state, out, id_shop=1)
        self.erp = ErpValues(self.state, default_rules(), out, id_shop=1, reassert=reassert, table_prefix="ps_",
                             now=self.now)
        self.states = ErpStates(out, order_states=STATES, shipment_states=STATES,
                                reference_prefix=self.mapping.shop_reference_prefix, refs=self.state.refs,
                                now=self.now)
        self.product_mapping = ProductMapping(self.state, self.orders, self.erp, self.facts)
        self.retention = Retention(self.state, self.orders, out, partitions=partitions, days=retention_days,
                                   now=self.now)
        self.events = ShopEvents(decode=pickle.loads, outputs=out, orders=self.orders, facts=self.facts,
                                 erp=self.erp, states=self.states, mapping=self.product_mapping,
                                 retention=self.retention, acks_topic="acks-topic")

    def now(self) -> dt.datetime:
        return self.clock[0]

    def record(self, kind: str, value: Any, partition: int = 0, headers: dict[str, bytes] | None = None) -> None:
        """One record of the shop-events topic: ``value`` is pickled unless it is bytes already."""
        raw = value if isinstance(value, bytes) else pickle.dumps(value)
        run(self.events(partition, raw, {KIND_HEADER: kind.encode(), **(headers or {})}))

    def map_product(self, id_product: int, attribute: int, sku: str, partition: int = 0) -> None:
        run(self.product_mapping.on_mapping(partition, change(mapping_row(id_product, attribute, sku))))


class Stock:
    """The stock-events handlers over in-memory tables."""

    def __init__(self, *, now: dt.datetime = NOW, drift_threshold: int = 2) -> None:
        self.clock = [now]
        self.ticks = [0.0]
        self.state = StockState.in_memory()
        self.rec = Recorder()
        self.hub = StockHub(self.state, self.rec.outputs, id_shop=1, guard_window_s=120, reconcile_delay_s=5,
                            drift_threshold=drift_threshold, now=lambda: self.clock[0],
                            monotonic=lambda: self.ticks[0])
        self.events = StockEvents(decode=pickle.loads, outputs=self.rec.outputs, stock=self.hub)

    def record(self, kind: str, id_product: int, value: Any) -> None:
        raw = pickle.dumps(value) if kind == "pssync_product_map" else json.dumps(value).encode()
        run(self.events(f"product:{id_product}".encode(), raw, {KIND_HEADER: kind.encode()}))
