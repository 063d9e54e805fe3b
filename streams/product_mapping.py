"""A product mapping row (pssync_product_map) on the shop-events stream: every partition keeps the
SKU <-> (product, combination) pairs in its references, then what waited for the mapping goes out:
ERP values of the SKU held by this partition, orders waiting for it, their stock lines kept aside.
(The stock processor gets the same row by product: streams.stock_hub.)"""
from __future__ import annotations

from typing import Any

from pssync.streams.erp_values import ErpValues
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.state import ShopState
from pssync.streams.stock_facts import StockFacts


class ProductMapping:
    def __init__(self, state: ShopState, orders: OrderAssembly, erp: ErpValues, facts: StockFacts) -> None:
        self.refs = state.refs
        self.orders = orders
        self.erp = erp
        self.facts = facts

    async def on_mapping(self, partition: int, event: dict[str, Any] | None) -> None:
        if event is None:
            return
        refs = self.refs
        row = event["after"] or event["before"]
        sku, id_product, attribute = row["sku"], int(row["id_product"]), int(row["id_product_attribute"])
        if event["after"] is None:
            refs.delete(partition, "sku", id_product, attribute)
            refs.delete(partition, "row", sku)
            return
        refs.set(partition, sku, "sku", id_product, attribute)
        refs.set(partition, [id_product, attribute], "row", sku)
        await self.erp.mapped(partition, sku, (id_product, attribute))
        await self.orders.retry_pending(partition)
        for id_order in self.orders.awaiting_product(partition, id_product):
            await self.orders.try_emit(id_order, partition)
            await self.facts.count_lines_mapped_late(partition, id_order)
