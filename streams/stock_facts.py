"""Stock facts for the stock processor, found on the shop-events stream: every order line (by
SKU), order cancellations and reinstatements, ERP acknowledgements of orders, and the shop's own
stock rows, each sent to the stock-events topic keyed by product (streams.stock_hub keeps the
books). An order's lines are kept (``order_stock``) so that its cancellation or acknowledgement
can be sent to the products it holds.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pssync.schemas.commands import OrderAck
from pssync.prestashop.configuration import state_ids
from pssync.prestashop.rules import CANCELLED_STATES
from pssync.streams.outputs import Outputs
from pssync.streams.state import ShopState


class StockFacts:
    def __init__(self, state: ShopState, outputs: Outputs, *, id_shop: int) -> None:
        self.state = state
        self.refs = state.refs
        self.outputs = outputs
        self.id_shop = id_shop

    # ---- order lines ----------------------------------------------------------------------------------
    async def on_order_detail(self, partition: int, event: dict[str, Any] | None) -> None:
        """A ps_order_detail change event (after the order processor has kept the line)."""
        row = None if event is None else event["after"]
        if row is not None:
            await self.order_line(partition, row, {"op": event["op"], "ts_ms": event["source"]["ts_ms"],
                                                   "gtid": event["source"].get("gtid")})

    async def order_line(self, partition: int, row: dict[str, Any], source: dict[str, Any]) -> None:
        """Every line of every order counts against stock (PrestaShop decrements at checkout), whatever
        its payment state. Snapshot rows are orders placed before capture began: the ERP's stock already
        reflects them (its levels were taken from the shop's), so they are history, not promises.
        ``source``: the line's change event (op, ts_ms, gtid). A line whose product has no SKU (yet) is
        kept aside and counted if the product is mapped later (its order goes to the ERP then)."""
        if source["op"] == "r":
            return
        order_stock = self.state.order_stock
        id_order, line_id = int(row["id_order"]), str(row["id_order_detail"])
        known = order_stock.get(id_order, {})
        aside = known.setdefault("unmapped", {})
        found = self.refs.line_sku(partition, int(row["product_id"]), int(row["product_attribute_id"]))
        if found is None:
            if aside.get(line_id) != source:
                aside[line_id] = source
                order_stock[id_order] = known
            return
        sku, attribute = found
        was_aside = aside.pop(line_id, None) is not None
        lines = known.setdefault("lines", {})
        entry = [sku, str(row["product_quantity"]), int(row["product_id"]), attribute]
        if lines.get(line_id) == entry:
            if was_aside:
                order_stock[id_order] = known
            return      # a later update of the line (invoice, refund...): the order is already counted
        lines[line_id] = entry
        order_stock[id_order] = known
        quantity = sum((Decimal(q) for s, q, _, _ in lines.values() if s == sku), Decimal(0))
        if quantity > 0:
            await self.outputs.stock_event(int(row["product_id"]), "stock.line", id_order=id_order, sku=sku,
                                           attribute=attribute, quantity=str(quantity), placed_ms=source["ts_ms"],
                                           cancelled=bool(known.get("cancelled")),
                                           trigger=f"order-line:{source['gtid']}:{line_id}")

    async def count_lines_mapped_late(self, partition: int, id_order: int) -> None:
        """Lines kept aside for want of a SKU, counted now if their product has one."""
        aside = self.state.order_stock.get(id_order, {}).get("unmapped") or {}
        rows = self.state.details.get(id_order, {})
        for line_id, source in sorted(aside.items()):
            if (row := rows.get(int(line_id))) is not None:
                await self.order_line(partition, row, source)

    # ---- order states ---------------------------------------------------------------------------------
    async def on_order(self, partition: int, event: dict[str, Any] | None) -> None:
        """A ps_orders change event: a cancelled order gives its units back; reinstated, it takes them
        again."""
        order = None if event is None else event["after"]
        if order is None:
            return
        order_stock = self.state.order_stock
        id_order = int(order["id_order"])
        known = order_stock.get(id_order, {})
        cancelled = int(order["current_state"]) in self._cancel_states(partition, order)
        if cancelled == bool(known.get("cancelled")):
            return
        known["cancelled"] = cancelled
        order_stock[id_order] = known
        for id_product in sorted({int(line[2]) for line in known.get("lines", {}).values()}):
            await self.outputs.stock_event(id_product, "stock.cancel" if cancelled else "stock.reinstate",
                                           id_order=id_order, trigger=f"order-state:{event['source'].get('gtid')}")

    def _cancel_states(self, partition: int, order: dict[str, Any]) -> set[int]:
        rows = (self.refs.get(partition, "configuration") or {}).values()
        return set(state_ids(rows, CANCELLED_STATES, int(order["id_shop"]), int(order["id_shop_group"])).values())

    # ---- ERP acknowledgements ---------------------------------------------------------------------------
    async def on_ack(self, partition: int, ack: OrderAck) -> None:
        """The ERP holds the order: to the products of its lines (known here, or named by the ack)."""
        if ack.action != "create":
            return
        products = {int(line[2]) for line in self.state.order_stock.get(ack.id_order, {}).get("lines", {}).values()}
        products |= {row[0] for s in ack.lines if (row := self.refs.row(partition, s)) is not None}
        for id_product in sorted(products):
            await self.outputs.stock_event(id_product, "stock.ack", id_order=ack.id_order,
                                           acked_at=ack.acked_at.isoformat(), trigger=f"ack:{ack.command_id}")

    # ---- the shop's own stock rows ----------------------------------------------------------------------
    async def on_stock_row(self, partition: int, event: dict[str, Any], echo: bool) -> None:
        """A ps_stock_available change, for the stock processor's reconciliation."""
        row = event["after"]
        if row is None or int(row["id_shop"]) != self.id_shop:
            return
        attribute = int(row["id_product_attribute"])
        sku = self.refs.sku(partition, row["id_product"], attribute)
        if sku is None:
            return
        await self.outputs.stock_event(int(row["id_product"]), "stock.shop_row", sku=sku, attribute=attribute,
                                       quantity=int(row["quantity"]), gtid=event["source"].get("gtid"),
                                       op=event["op"], echo=echo)
