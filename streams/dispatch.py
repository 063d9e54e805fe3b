"""What the two agents do with one record, without Faust: the kind header (streams.routes) says how
the value is decoded and which handlers take it; a handler's failure dead-letters the record
instead of stopping the agent. streams.worker builds these and hands them each record."""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from pssync.schemas.headers import ORIGIN_HEADER
from pssync.schemas.commands import BadCommand
from pssync.streams.erp_states import ErpStates
from pssync.streams.erp_values import ErpValues
from pssync.streams.order_waits import SWEEP_KIND
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.outputs import Outputs
from pssync.streams.product_mapping import ProductMapping
from pssync.streams.retention import Retention
from pssync.streams.routes import KIND_HEADER, PRODUCT_TABLES, header, kind_of
from pssync.streams.stock_facts import StockFacts
from pssync.streams.stock_hub import StockHub

log = logging.getLogger(__name__)
Decode = Callable[[bytes | None], Any]          # Avro in the registry's wire format -> dict (None: tombstone)
ShopHandler = Callable[[int, bytes, Any], Awaitable[None]]   # (partition, value, headers)


async def guarded(outputs: Outputs, where: str, value: bytes | None, handler: Callable[[], Awaitable[None]]) -> None:
    """Run one event's handler; a failure dead-letters the event with the reason instead of
    crashing the agent (Faust would restart it and lose its place in the stream)."""
    try:
        await handler()
    except Exception as exc:
        log.exception("%s: event failed", where)
        await outputs.dead_letter_record(where, f"{type(exc).__name__}: {exc}",
                                         {"value_hex": (value or b"")[:2048].hex()})


def is_echo(headers: Any) -> bool:
    """Written by one of our own sinks (the router keeps the capture's origin marker)."""
    return header(headers, ORIGIN_HEADER) is not None


class ShopEvents:
    """The shop-events agent: orders, reference rows, the mapping, ERP values and states, shop
    product rows, acknowledgements and the processors' own requests (reassert, prune)."""

    def __init__(self, *, decode: Decode, outputs: Outputs, orders: OrderAssembly, facts: StockFacts,
                 erp: ErpValues, states: ErpStates, mapping: ProductMapping, retention: Retention,
                 acks_topic: str) -> None:
        self.decode = decode
        self.outputs = outputs
        self.orders = orders
        self.facts = facts
        self.erp = erp
        self.acks_topic = acks_topic        # sinks.acks_topic: where undecodable acknowledgements came from
        avro, internal = self._avro, self._json
        self.handlers: dict[str, ShopHandler] = {
            "orders": self._order,
            "order_detail": self._order_detail,
            "order_history": avro(orders.on_order_history),
            "customer": avro(lambda p, e: orders.on_reference(p, e, "customer", "id_customer")),
            "address": avro(lambda p, e: orders.on_reference(p, e, "address", "id_address")),
            "currency": avro(lambda p, e: orders.on_collection(p, e, "currency", "id_currency")),
            "configuration": avro(lambda p, e: orders.on_collection(p, e, "configuration", "id_configuration")),
            "pssync_product_map": avro(mapping.on_mapping),
            "erp.stock": avro(erp.on_erp_stock),
            "erp.price": avro(erp.on_erp_price),
            "erp.product": avro(erp.on_erp_product),
            "erp.order_status": avro(states.on_order_status),
            "erp.shipment": avro(states.on_shipment),
            "acks": self._ack,
            "reassert": internal(erp.on_reassert),
            "prune": internal(retention.on_prune),
            SWEEP_KIND: internal(orders.waits.on_sweep),
            **{table: self._product_row(table) for table in PRODUCT_TABLES},
        }

    async def __call__(self, partition: int, value: bytes, headers: Any) -> None:
        """One record of the shop-events topic."""
        kind = kind_of(header(headers, KIND_HEADER))
        handler = self.handlers.get(kind)
        if handler is None:
            await self.outputs.dead_letter_record("shop-events", f"unknown event kind {kind!r}", {})
            return
        await guarded(self.outputs, f"shop-events:{kind}", value, lambda: handler(partition, value, headers))

    # ---- decoders ---------------------------------------------------------------------------------
    def _avro(self, handle: Callable[[int, Any], Awaitable[None]]) -> ShopHandler:
        async def decoded(partition: int, value: bytes, headers: Any) -> None:
            await handle(partition, self.decode(value))
        return decoded

    @staticmethod
    def _json(handle: Callable[[int, Any], Awaitable[None]]) -> ShopHandler:
        async def decoded(partition: int, value: bytes, headers: Any) -> None:
            await handle(partition, json.loads(value))
        return decoded

    # ---- kinds more than one handler takes ----------------------------------------------------------
    async def _order(self, partition: int, value: bytes, headers: Any) -> None:
        event = self.decode(value)
        await self.orders.on_order(partition, event)
        await self.facts.on_order(partition, event)

    async def _order_detail(self, partition: int, value: bytes, headers: Any) -> None:
        event = self.decode(value)
        await self.orders.on_order_detail(partition, event)
        await self.facts.on_order_detail(partition, event)

    def _product_row(self, table: str) -> ShopHandler:
        async def handle(partition: int, value: bytes, headers: Any) -> None:
            event = self.decode(value)
            if event is None:
                return
            echo = is_echo(headers)
            await self.erp.on_product_row(partition, table, event, echo)
            if table == "stock_available":
                await self.facts.on_stock_row(partition, event, echo)
        return handle

    async def _ack(self, partition: int, value: bytes, headers: Any) -> None:
        try:
            ack = self.outputs.codec.ack(value, "acks")
        except BadCommand as exc:
            await self.outputs.dead_letter_record(self.acks_topic, exc.reason, {})
            return
        await self.facts.on_ack(partition, ack)


class StockEvents:
    """The stock-events agent: a product's key, JSON stock facts (and the mapping row, in Avro)."""

    def __init__(self, *, decode: Decode, outputs: Outputs, stock: StockHub) -> None:
        self.decode = decode
        self.outputs = outputs
        self.stock = stock
        self.handlers: dict[str, Callable[[int, dict[str, Any]], Awaitable[None]]] = {
            "stock.level": stock.on_level,
            "stock.line": stock.on_line,
            "stock.cancel": stock.on_cancel,
            "stock.reinstate": stock.on_reinstate,
            "stock.ack": stock.on_ack,
            "stock.shop_row": stock.on_shop_row,
            "stock.reconcile": stock.on_reconcile,
        }

    async def __call__(self, key: bytes | None, value: bytes, headers: Any) -> None:
        """One record of the stock-events topic."""
        kind = kind_of(header(headers, KIND_HEADER))
        await guarded(self.outputs, f"stock-events:{kind}", value, lambda: self._handle(kind, key, value))

    async def _handle(self, kind: str, key: bytes | None, value: bytes) -> None:
        id_product = int((key or b"").decode().removeprefix("product:"))
        if kind == "pssync_product_map":
            await self.stock.on_mapping(id_product, self.decode(value))
            return
        handler = self.handlers.get(kind)
        if handler is None:
            await self.outputs.dead_letter_record("stock-events", f"unknown event kind {kind!r}", {})
            return
        await handler(id_product, json.loads(value))
