"""Plain stand-ins for what the hubs are given in the worker: dicts for their tables, recording
topics for their outputs, a fixed clock; and builders of the events they take."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pssync.streams.erp_states import ErpStates
from pssync.streams.erp_values import ErpValues
from pssync.streams.orders import OrderMapping
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.product_mapping import ProductMapping
from pssync.streams.retention import Retention
from pssync.streams.rules import Rules, columns_from_ddl, load_rules
from pssync.streams.state import ShopState
from pssync.streams.stock_facts import StockFacts
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
    """The shop-events handlers over in-memory tables (one partition unless told)."""

    def __init__(self, *, partitions: int = 1, reassert: bool = True, retention_days: float = 90,
                 mapping: OrderMapping | None = None, now: dt.datetime = NOW) -> None:
        self.clock = [now]
        self.state = ShopState.in_memory()
        self.rec = Recorder()
        out = self.rec.outputs
        self.mapping = mapping or order_mapping()
        self.orders = OrderAssembly(self.state, self.mapping, out)
        self.facts = StockFacts(self.state, out, id_shop=1)
        self.erp = ErpValues(self.state, default_rules(), out, id_shop=1, reassert=reassert, table_prefix="ps_",
                             now=self.now)
        self.states = ErpStates(out, order_states=STATES, shipment_states=STATES,
                                reference_prefix=self.mapping.shop_reference_prefix, now=self.now)
        self.product_mapping = ProductMapping(self.state, self.orders, self.erp, self.facts)
        self.retention = Retention(self.state, self.orders, out, partitions=partitions, days=retention_days,
                                   now=self.now)

    def now(self) -> dt.datetime:
        return self.clock[0]

    def map_product(self, id_product: int, attribute: int, sku: str, partition: int = 0) -> None:
        run(self.product_mapping.on_mapping(partition, change(mapping_row(id_product, attribute, sku))))
