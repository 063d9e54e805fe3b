"""The stock processor: one StockBook per shop product (its combinations together), fed by the
stock-events topic partitioned by product (streams.routes): ERP levels, every shop order line,
cancellations and ERP acknowledgements (resolved to the product by the shop-events processor), the
product mapping and the shop's own stock rows. Each change publishes a StockCommand for the SKUs
whose value changed, with the orders the book knows of, so the sink can subtract orders it never
saw (see sinks/prestashop_db.py).

Reconciliation: the shop's own stock changes (checkouts, back-office edits; never our sink's
writes, which carry the echo marker) are compared with the computed value once the order lines of
the same checkout have had time to arrive: small unambiguous drift is corrected, larger drift
alerts a person.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from decimal import Decimal
from typing import Any, Awaitable, Callable

from pssync.streams.app import (alerts, app, codec, dead_letter_record, decode, guarded, hubs, send_stock_event, settings,
                         shop_commands, state, utc_now)
from pssync.schemas.codec import ALERT
from pssync.streams.routes import KIND_HEADER, header, kind_of
from pssync.streams.shop_commands import stock_command
from pssync.streams.stock import StockBook, reconcile

log = logging.getLogger(__name__)
sconf = settings.streams

books = state("stock-books")                      # id_product -> StockBook.to_json()
product_skus = state("product-skus", dict)        # id_product -> {sku: id_product_attribute}
published = state("stock-published")              # sku -> last quantity sent
shop_stock = state("shop-stock")                  # sku -> [quantity, gtid] as the shop last wrote it
_due: dict[str, tuple[int, float]] = {}           # sku -> (id_product, monotonic time to compare at)


def _utc_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def book_for(id_product: int, sku: str | None = None, attribute: int | None = None) -> StockBook:
    """The product's book with every mapped SKU; an event's own (sku, attribute) counts as mapped
    even if the mapping row itself is still on its way."""
    skus = product_skus[id_product]
    if sku is not None and attribute is not None and skus.get(sku) != attribute:
        skus[sku] = attribute
        product_skus[id_product] = skus
    stored = books.get(id_product)
    book = StockBook() if stored is None else StockBook.from_json(stored)
    for known, attr in skus.items():
        if book._rows.get(known) != (id_product, attr):   # mapping arrived or changed
            book.map_sku(known, id_product, attr)
    return book


async def publish(book: StockBook, id_product: int, skus: set[str], trigger: str, force: bool = False) -> None:
    now = utc_now()
    since = now - dt.timedelta(seconds=settings.sinks.stock_guard_window_s)
    book.forget_orders(since - dt.timedelta(hours=1))
    books[id_product] = book.to_json()
    for sku in sorted(skus):
        result = book.publish(sku)
        if result is None:
            continue
        if not force and published.get(sku) == result.quantity:
            continue
        command = stock_command(result, trigger, sconf.id_shop, book.known_orders(sku, since), since, now)
        await shop_commands.send(key=command.kafka_key,
                                 value=codec.encode(settings.streams.shop_commands_topic, command))
        published[sku] = result.quantity
        if result.shortfall:
            log.warning("stock %s: shop promised %d more than the ERP covers", sku, result.shortfall)
        log.info("stock %s -> %d (%s)", sku, result.quantity, trigger)


async def on_mapping(id_product: int, value: bytes) -> None:
    event = decode(value)
    if event is None:
        return
    row = event["after"] or event["before"]
    skus = product_skus[id_product]
    if event["after"] is None:
        skus.pop(row["sku"], None)
    else:
        skus[row["sku"]] = int(row["id_product_attribute"])
    product_skus[id_product] = skus


async def on_level(id_product: int, e: dict[str, Any]) -> None:
    book = book_for(id_product, e["sku"], e["attribute"])
    affected = book.erp_level(e["sku"], Decimal(e["quantity"]), dt.datetime.fromisoformat(e["as_of"]),
                              e["mode"], e["snapshot_id"])
    await publish(book, id_product, affected, e["trigger"], force=e["mode"] == "snapshot")


async def on_line(id_product: int, e: dict[str, Any]) -> None:
    book = book_for(id_product, e["sku"], e["attribute"])
    affected = book.order_placed(str(e["id_order"]), e["sku"], Decimal(e["quantity"]), _utc_ms(e["placed_ms"]))
    if e["cancelled"]:
        affected |= book.order_cancelled(str(e["id_order"]))
    await publish(book, id_product, affected, e["trigger"])


async def on_cancel(id_product: int, e: dict[str, Any]) -> None:
    book = book_for(id_product)
    await publish(book, id_product, book.order_cancelled(str(e["id_order"])), e["trigger"])


async def on_reinstate(id_product: int, e: dict[str, Any]) -> None:
    book = book_for(id_product)
    await publish(book, id_product, book.order_reinstated(str(e["id_order"])), e["trigger"])


async def on_ack(id_product: int, e: dict[str, Any]) -> None:
    book = book_for(id_product)
    affected = book.order_acknowledged(str(e["id_order"]), dt.datetime.fromisoformat(e["acked_at"]))
    await publish(book, id_product, affected, e["trigger"])


async def on_shop_row(id_product: int, e: dict[str, Any]) -> None:
    sku = e["sku"]
    shop_stock[sku] = [int(e["quantity"]), e["gtid"]]
    if e["echo"]:
        _due.pop(sku, None)          # our own write: the value we computed
    elif e["op"] in ("c", "u"):
        _due[sku] = (id_product, time.monotonic() + sconf.stock_reconcile_delay_s)


# Faust lets only stream iteration write tables: the timer hands due SKUs to the stock-events topic.
@app.timer(interval=1.0)
async def reconcile_due() -> None:
    now = time.monotonic()
    for sku, (id_product, at) in [(s, d) for s, d in _due.items() if d[1] <= now]:
        _due.pop(sku, None)
        try:
            await send_stock_event(id_product, "stock.reconcile", sku=sku)
        except Exception:  # the timer must never take the worker down; the next change retries
            log.exception("stock %s: could not schedule the comparison", sku)


async def on_reconcile(id_product: int, e: dict[str, Any]) -> None:
    sku = e["sku"]
    seen, attribute = shop_stock.get(sku), product_skus[id_product].get(sku)
    if seen is None or attribute is None:
        return
    book = book_for(id_product)
    computed = book.publish(sku)
    if computed is None:
        return                       # no ERP level yet: nothing to compare with
    result = reconcile(int(seen[0]), computed, sconf.stock_drift_threshold)
    if result.action == "correct":
        log.info("stock %s: %s; correcting to %d", sku, result.reason, computed.quantity)
        await publish(book, id_product, {sku}, f"reconcile:{sku}:{seen[1]}", force=True)
    elif result.action == "alert":
        log.warning("stock %s: %s (shop %d, computed %d): alerting", sku, result.reason,
                    result.shop_quantity, result.computed)
        await alerts.send(key=sku.encode(), value=codec.encode_record(settings.streams.alerts_topic, ALERT, {
            "kind": "stock_drift", "sku": sku, "id_product": id_product, "id_product_attribute": attribute,
            "shop_quantity": result.shop_quantity, "computed": result.computed, "delta": result.delta,
            "reason": result.reason, "shop_gtid": seen[1], "erp_as_of": computed.as_of, "at": utc_now()}))
    elif result.action == "defer":
        _due[sku] = (id_product, time.monotonic() + sconf.stock_reconcile_delay_s)


HANDLERS: dict[str, Callable[[int, dict[str, Any]], Awaitable[None]]] = {
    "stock.level": on_level,
    "stock.line": on_line,
    "stock.cancel": on_cancel,
    "stock.reinstate": on_reinstate,
    "stock.ack": on_ack,
    "stock.shop_row": on_shop_row,
    "stock.reconcile": on_reconcile,
}


async def handle(kind: str, key: bytes | None, value: bytes) -> None:
    id_product = int((key or b"").decode().removeprefix("product:"))
    if kind == "pssync_product_map":
        await on_mapping(id_product, value)
        return
    handler = HANDLERS.get(kind)
    if handler is None:
        await dead_letter_record("stock-events", f"unknown event kind {kind!r}", {})
        return
    await handler(id_product, json.loads(value))


@app.agent(hubs["stock"], name="stock-events")
async def on_stock_event(stream):
    async for event in stream.events():
        message = event.message
        kind = kind_of(header(message.headers, KIND_HEADER))
        await guarded(f"stock-events:{kind}", message.value, lambda: handle(kind, message.key, message.value))
