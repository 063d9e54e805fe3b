"""A product mapping row (pssync_product_map) on the shop-events stream: every partition keeps the
SKU <-> (product, combination) pairs in its references, then what waited for the mapping goes out:
ERP values of the SKU held by this partition, orders waiting for it, their stock lines kept aside.
A row deleted, or updated to another SKU (`pssync erp mapping set --reassign` moves a SKU between
products), takes its old pair out of the references in both directions: the old SKU's ERP values
no longer reach the row, the old product's orders wait for a mapping again.
(The stock processor gets the same row by product: streams.stock_hub.)"""
from __future__ import annotations

from typing import Any

from pssync.streams.erp_values import ErpValues
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.state import ShopState
from pssync.streams.stock_facts import StockFacts


def pair(row: dict[str, Any]) -> tuple[str, tuple[int, int]]:
    """A mapping row's (sku, (id_product, id_product_attribute))."""
    return row["sku"], (int(row["id_product"]), int(row["id_product_attribute"]))


class ProductMapping:
    def __init__(self, state: ShopState, orders: OrderAssembly, erp: ErpValues, facts: StockFacts) -> None:
        self.refs = state.refs
        self.orders = orders
        self.erp = erp
        self.facts = facts

    async def on_mapping(self, partition: int, event: dict[str, Any] | None) -> None:
        if event is None:
            return
        before, after = event["before"], event["after"]
        if before is not None and (after is None or pair(before) != pair(after)):
            self.forget(partition, *pair(before))
        if after is None:
            return
        sku, row = pair(after)
        # a SKU names one row and a row has one SKU: a pair this one displaces goes too, even if its
        # own delete event comes later (from another partition of the capture's topic)
        if (held := self.refs.row(partition, sku)) is not None and held != row:
            self.forget(partition, sku, held)
        if (had := self.refs.sku(partition, *row)) is not None and had != sku:
            self.forget(partition, had, row)
        self.refs.set(partition, sku, "sku", *row)
        self.refs.set(partition, list(row), "row", sku)
        await self.erp.mapped(partition, sku, row)
        id_product = row[0]
        for id_order in self.orders.awaiting_product(partition, id_product):
            await self.orders.try_emit(id_order, partition)
            await self.facts.count_lines_mapped_late(partition, id_order)

    def forget(self, partition: int, sku: str, row: tuple[int, int]) -> None:
        """The pair (sku, row) no longer holds (a deleted row, or an update that moved the SKU or gave
        the row another): both directions go, each only while it still names the other side, so a
        newer mapping of the SKU or of the row, already applied, stays."""
        if self.refs.row(partition, sku) == row:
            self.refs.delete(partition, "row", sku)
        if self.refs.sku(partition, *row) == sku:
            self.refs.delete(partition, "sku", *row)
