"""Faust agents: ERP changes and shop orders -> PrestaShop commands (stock, prices, states, tracking).

Stock: one StockBook per shop product (its combinations together, so the product-level row can be
summed) in the changelog-backed table ``stock-books``. It is fed by ERP levels (erp.stock), the
shop's order lines (every line of every order, whatever its payment state: PrestaShop decrements at
checkout), order cancellations, and the ERP sink's acknowledgements. Each change publishes a
StockCommand for the SKUs whose value changed, with the orders the book knows of, so the sink can
subtract orders it never saw (see sinks/prestashop_db.py).

Prices, ERP order states and shipments map one event to one command. Imported by streams.app.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from decimal import Decimal
from typing import Any

import faust

from erp.topics import topic_name
from streams.app import (_emit_lock, app, configuration, dead_letter_record, decode, is_echo, mapping,
                         settings, source, state)
from streams.commands import BadCommand, decode_ack, encode
from streams.orders import resolve_configuration
from streams.shop_commands import (price_command, product_command, state_command, stock_command,
                                   tracking_command)
from streams.stock import StockBook, reconcile

log = logging.getLogger(__name__)
sconf = settings.streams
shop_reference_prefix = mapping.shop_reference_prefix

books = state("stock-books")                      # id_product -> StockBook.to_json()
sku_rows = state("sku-rows")                      # sku -> [id_product, id_product_attribute]
product_skus = state("product-skus", dict)        # id_product -> {sku: id_product_attribute}
order_lines = state("stock-order-lines", dict)    # id_order -> {id_order_detail: [sku, qty, id_product]}
order_cancelled = state("stock-order-cancelled", bool)
published = state("stock-published")              # sku -> last quantity sent
erp_prices = state("erp-prices")                  # sku -> {"price", "changed_at", "version"} (strings)
erp_levels = state("erp-levels")                  # sku -> latest ERP level (strings), mapped or not
erp_products = state("erp-products")              # sku -> {"active", "changed_at", "version"}

shop_commands = app.topic(sconf.shop_commands_topic, key_serializer="raw", value_serializer="raw")


def erp_topic(kind: str) -> faust.TopicT:
    return app.topic(topic_name(settings.erp.topic_prefix, kind), key_serializer="raw", value_serializer="raw")


acks = app.topic(settings.sinks.acks_topic, key_serializer="raw", value_serializer="raw")


async def guarded(where: str, value: bytes | None, handler) -> None:
    """Run one event's handler; a failure dead-letters the event with the reason instead of
    crashing the agent (Faust would restart it and lose its place in the stream)."""
    try:
        await handler(value)
    except Exception as exc:
        log.exception("%s: event failed", where)
        await dead_letter_record(where, f"{type(exc).__name__}: {exc}", {"value_hex": (value or b"")[:2048].hex()})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def book_for(id_product: int) -> StockBook:
    stored = books.get(id_product)
    book = StockBook() if stored is None else StockBook.from_json(stored)
    for sku, attribute in product_skus[id_product].items():
        if book._rows.get(sku) != (id_product, attribute):   # mapping arrived or changed
            book.map_sku(sku, id_product, attribute)
    return book


async def publish(book: StockBook, id_product: int, skus: set[str], trigger: str, force: bool = False) -> None:
    now = _now()
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
        await shop_commands.send(key=command.kafka_key, value=encode(command))
        published[sku] = result.quantity
        if result.shortfall:
            log.warning("stock %s: shop promised %d more than the ERP covers", sku, result.shortfall)
        log.info("stock %s -> %d (%s)", sku, result.quantity, trigger)


# ---- mapping --------------------------------------------------------------------------------------
async def handle_mapping(value: bytes | None) -> None:
    event = decode(value)
    if event is None:
        return
    row = event["after"] or event["before"]
    sku, id_product, attribute = row["sku"], int(row["id_product"]), int(row["id_product_attribute"])
    async with _emit_lock:
        skus = product_skus[id_product]
        if event["after"] is None:
            skus.pop(sku, None)
            if sku in sku_rows:
                del sku_rows[sku]
        else:
            skus[sku] = attribute
            sku_rows[sku] = [id_product, attribute]
        product_skus[id_product] = skus
        log.debug("mapping %s -> %s/%s", sku, id_product, attribute)
        if event["after"] is None:
            return
        # ERP values that arrived before the mapping are applied now, not lost
        level = erp_levels.get(sku)
        if level is not None:
            book = book_for(id_product)
            affected = book.erp_level(sku, Decimal(level["quantity"]), dt.datetime.fromisoformat(level["as_of"]),
                                      level["mode"], level["snapshot_id"])
            await publish(book, id_product, affected, f"mapping:{sku}:{level['version']}")
        price = erp_prices.get(sku)
        if price is not None:
            await send_price(sku, price, f"mapping:{sku}:{price['version']}")
        product = erp_products.get(sku)
        if product is not None:
            await send_product(sku, product, f"mapping:{sku}:{product['version']}")


@app.agent(source("pssync_product_map", prefixed=False), name="stock-product-map")
async def on_mapping(stream):
    async for value in stream:
        await guarded("mapping", value, handle_mapping)


# ---- ERP levels -----------------------------------------------------------------------------------
async def handle_erp_stock(value: bytes | None) -> None:
    try:
        event = decode(value)
    except Exception as exc:  # undecodable: parked with the reason, never blocks the stream
        await dead_letter_record("erp.stock", f"undecodable: {exc}", {})
        return
    log.debug("ERP level %s %s at %s", event["sku"], event["quantity"], event["as_of"])
    async with _emit_lock:
        known = erp_levels.get(event["sku"])
        if known is None or dt.datetime.fromisoformat(known["as_of"]) <= event["as_of"]:
            erp_levels[event["sku"]] = {"quantity": str(event["quantity"]), "as_of": event["as_of"].isoformat(),
                                        "mode": event["mode"], "snapshot_id": event.get("snapshot_id"),
                                        "version": event["version"]}
        row = sku_rows.get(event["sku"])
        if row is None:
            log.debug("ERP SKU %s is not (yet) mapped to a shop product", event["sku"])
            return
        book = book_for(row[0])
        affected = book.erp_level(event["sku"], Decimal(event["quantity"]), event["as_of"],
                                  event["mode"], event.get("snapshot_id"))
        await publish(book, row[0], affected, f"erp-stock:{event['version']}",
                      force=event["mode"] == "snapshot")


@app.agent(erp_topic("stock"), name="stock-erp-levels")
async def on_erp_stock(stream):
    async for value in stream:
        await guarded("erp_stock", value, handle_erp_stock)


# ---- shop orders ------------------------------------------------------------------------------------
async def handle_order_line(value: bytes | None) -> None:
    event = decode(value)
    # snapshot rows are orders placed before capture began: the ERP's stock already reflects
    # them (its levels were taken from the shop's), so they are history, not promises
    if event is None or event["after"] is None or event["op"] == "r":
        return
    row = event["after"]
    id_order = int(row["id_order"])
    sku_of = {sku: attr for sku, attr in product_skus[int(row["product_id"])].items()}
    sku = next((s for s, a in sku_of.items() if a == int(row["product_attribute_id"])), None)
    if sku is None:
        return            # not an ERP-managed product
    async with _emit_lock:
        lines = order_lines[id_order]
        entry = [sku, str(row["product_quantity"]), int(row["product_id"])]
        if lines.get(str(row["id_order_detail"])) == entry:
            return      # a later update of the line (invoice, refund...): the order is already counted
        lines[str(row["id_order_detail"])] = entry   # str: the changelog stores JSON
        order_lines[id_order] = lines
        qty = sum((Decimal(q) for s, q, _ in lines.values() if s == sku), Decimal(0))
        if qty <= 0:
            return
        book = book_for(int(row["product_id"]))
        affected = book.order_placed(str(id_order), sku, qty, _utc_ms(event["source"]["ts_ms"]))
        if order_cancelled[id_order]:
            affected |= book.order_cancelled(str(id_order))
        await publish(book, int(row["product_id"]), affected, f"order-line:{event['source'].get('gtid')}:"
                                                              f"{row['id_order_detail']}")


@app.agent(source("order_detail"), name="stock-order-lines")
async def on_order_line(stream):
    async for value in stream:
        await guarded("order_line", value, handle_order_line)


def _cancel_states(order: dict[str, Any]) -> set[int]:
    rows = list(configuration["all"].values())
    found = set()
    for name in ("PS_OS_CANCELED", "PS_OS_ERROR"):
        value = resolve_configuration(rows, name, int(order["id_shop"]), int(order["id_shop_group"]))
        if value is not None and str(value).isdigit():
            found.add(int(value))
    return found


async def handle_order_state(value: bytes | None) -> None:
    event = decode(value)
    if event is None or event["after"] is None:
        return
    order = event["after"]
    id_order = int(order["id_order"])
    async with _emit_lock:
        cancelled = int(order["current_state"]) in _cancel_states(order)
        if cancelled == bool(order_cancelled[id_order]):
            return
        order_cancelled[id_order] = cancelled
        products = {int(p) for _, _, p in order_lines[id_order].values()}
        for id_product in products:
            book = book_for(id_product)
            affected = (book.order_cancelled if cancelled else book.order_reinstated)(str(id_order))
            await publish(book, id_product, affected, f"order-state:{event['source'].get('gtid')}")


@app.agent(source("orders"), name="stock-order-states")
async def on_order_state(stream):
    async for value in stream:
        await guarded("order_state", value, handle_order_state)


# ---- ERP acknowledgements ---------------------------------------------------------------------------
async def handle_ack(value: bytes | None) -> None:
    try:
        ack = decode_ack(value, "acks")
    except BadCommand as exc:
        await dead_letter_record(settings.sinks.acks_topic, exc.reason, {})
        return
    if ack.action != "create":
        return
    async with _emit_lock:
        products = {int(p) for _, _, p in order_lines[ack.id_order].values()}
        products |= {sku_rows[s][0] for s in ack.lines if s in sku_rows}
        for id_product in sorted(products):
            book = book_for(id_product)
            affected = book.order_acknowledged(str(ack.id_order), ack.acked_at)
            await publish(book, id_product, affected, f"ack:{ack.command_id}")


@app.agent(acks, name="stock-acks")
async def on_ack(stream):
    async for value in stream:
        await guarded("ack", value, handle_ack)


# ---- prices, order states, tracking ---------------------------------------------------------------------
def keep_latest(table: Any, event: dict[str, Any], **fields: Any) -> dict[str, Any] | None:
    """Store an ERP value of a SKU unless an ERP change newer than it is already held (stored as
    strings, sent again when the mapping arrives or after a violation); None when it is older."""
    known = table.get(event["sku"])
    if known and dt.datetime.fromisoformat(known["changed_at"]) > event["changed_at"]:
        return None
    value = {**fields, "changed_at": event["changed_at"].isoformat(), "version": event["version"]}
    table[event["sku"]] = value
    return value


async def handle_erp_price(value: bytes | None) -> None:
    event = decode(value)
    price = keep_latest(erp_prices, event, price=str(event["list_price"]))
    if price is not None:
        await send_price(event["sku"], price, f"erp-price:{event['version']}")


async def send_price(sku: str, price: dict[str, str], trigger: str) -> bool:
    row = sku_rows.get(sku)
    if row is None:
        return False            # not (yet) mapped: sent when the mapping arrives
    command = price_command(sku, (row[0], row[1]), Decimal(price["price"]),
                            dt.datetime.fromisoformat(price["changed_at"]), trigger, sconf.id_shop, _now())
    await shop_commands.send(key=command.kafka_key, value=encode(command))
    return True


@app.agent(erp_topic("price"), name="erp-prices")
async def on_erp_price(stream):
    async for value in stream:
        await guarded("erp_price", value, handle_erp_price)


async def handle_erp_product(value: bytes | None) -> None:
    event = decode(value)
    product = keep_latest(erp_products, event, active=bool(event["active"]))
    if product is not None:
        await send_product(event["sku"], product, f"erp-product:{event['version']}")


async def send_product(sku: str, product: dict[str, Any], trigger: str) -> bool:
    row = sku_rows.get(sku)
    command = None if row is None else product_command(
        sku, (row[0], row[1]), product["active"], dt.datetime.fromisoformat(product["changed_at"]), trigger,
        sconf.id_shop, _now())
    if command is None:
        return False
    await shop_commands.send(key=command.kafka_key, value=encode(command))
    return True


@app.agent(erp_topic("product"), name="erp-products")
async def on_erp_product(stream):
    async for value in stream:
        await guarded("erp_product", value, handle_erp_product)


async def reassert(sku: str, column: str, trigger: str) -> bool:
    """Send the ERP's value of an ERP-owned column again after a shop-side edit."""
    if not sconf.reassert_erp_values:
        return False
    if column == "price":
        return await reassert_price(sku, trigger)
    if column == "active" and (known := erp_products.get(sku)) is not None:
        return await send_product(sku, known, trigger)
    return False


async def reassert_price(sku: str, trigger: str) -> bool:
    """Send the ERP's price again after a shop-side edit (ownership violation)."""
    known = erp_prices.get(sku)
    if not sconf.reassert_erp_values or known is None:
        return False
    return await send_price(sku, known, trigger)


async def handle_erp_order_status(value: bytes | None) -> None:
    event = decode(value)
    command = state_command(event, sconf.erp_order_states, "order-status", shop_reference_prefix, _now())
    if command is not None:
        await shop_commands.send(key=command.kafka_key, value=encode(command))


@app.agent(erp_topic("order_status"), name="erp-order-states")
async def on_erp_order_status(stream):
    async for value in stream:
        await guarded("erp_order_status", value, handle_erp_order_status)


async def handle_erp_shipment(value: bytes | None) -> None:
    event = decode(value)
    now = _now()
    for command in (tracking_command(event, shop_reference_prefix, now),
                    state_command(event, sconf.erp_shipment_states, "shipment", shop_reference_prefix, now)):
        if command is not None:
            await shop_commands.send(key=command.kafka_key, value=encode(command))


@app.agent(erp_topic("shipment"), name="erp-shipments")
async def on_erp_shipment(stream):
    async for value in stream:
        await guarded("erp_shipment", value, handle_erp_shipment)


# ---- reconciliation ----------------------------------------------------------------------------------
# The shop's own stock changes (checkouts, back-office edits; never our sink's writes, which carry
# the echo marker) are compared with the computed value once the order lines of the same checkout
# have had time to arrive: small unambiguous drift is corrected, larger drift alerts a person.
shop_stock = state("shop-stock")                  # sku -> [quantity, gtid] as the shop last wrote it
_due: dict[str, float] = {}                       # sku -> monotonic time to compare at (in memory)
alerts = app.topic(sconf.alerts_topic, key_serializer="raw", value_serializer="raw")


async def handle_stock_row(event: dict[str, Any], echo: bool) -> None:
    row = event["after"]
    if row is None or int(row["id_shop"]) != sconf.id_shop:
        return
    attribute = int(row["id_product_attribute"])
    sku = next((s for s, a in product_skus[int(row["id_product"])].items() if a == attribute), None)
    if sku is None:
        return
    shop_stock[sku] = [int(row["quantity"]), event["source"].get("gtid")]
    if echo:
        _due.pop(sku, None)          # our own write: the value we computed
    elif event["op"] in ("c", "u"):
        _due[sku] = time.monotonic() + sconf.stock_reconcile_delay_s


@app.agent(source("stock_available"), name="stock-shop-rows")
async def on_shop_stock(stream):
    async for message in stream.events():
        echo = is_echo(message.headers)

        async def handle(value: bytes | None, echo: bool = echo) -> None:
            event = decode(value)
            if event is not None:
                await handle_stock_row(event, echo)
        await guarded("shop_stock", message.value, handle)


# Faust lets only stream iteration write tables: the timer hands due SKUs to an agent.
reconcile_requests = app.topic(f"{app.conf.id}-reconcile-requests", key_serializer="raw",
                               value_serializer="raw", partitions=1, internal=True)


@app.timer(interval=1.0)
async def reconcile_due() -> None:
    now = time.monotonic()
    for sku in [s for s, t in _due.items() if t <= now]:
        _due.pop(sku, None)
        try:
            await reconcile_requests.send(key=sku.encode(), value=sku.encode())
        except Exception:  # the timer must never take the worker down; the next change retries
            log.exception("stock %s: could not schedule the comparison", sku)


async def handle_reconcile(value: bytes | None) -> None:
    if value:
        async with _emit_lock:
            await reconcile_sku(value.decode())


@app.agent(reconcile_requests, name="stock-reconcile")
async def on_reconcile(stream):
    async for value in stream:
        await guarded("reconcile", value, handle_reconcile)


async def reconcile_sku(sku: str) -> None:
    seen, row = shop_stock.get(sku), sku_rows.get(sku)
    if seen is None or row is None:
        return
    book = book_for(row[0])
    computed = book.publish(sku)
    if computed is None:
        return                       # no ERP level yet: nothing to compare with
    result = reconcile(int(seen[0]), computed, sconf.stock_drift_threshold)
    if result.action == "correct":
        log.info("stock %s: %s; correcting to %d", sku, result.reason, computed.quantity)
        await publish(book, row[0], {sku}, f"reconcile:{sku}:{seen[1]}", force=True)
    elif result.action == "alert":
        log.warning("stock %s: %s (shop %d, computed %d): alerting", sku, result.reason,
                    result.shop_quantity, result.computed)
        await alerts.send(key=sku.encode(), value=json.dumps({
            "kind": "stock_drift", "sku": sku, "id_product": row[0], "id_product_attribute": row[1],
            "shop_quantity": result.shop_quantity, "computed": result.computed, "delta": result.delta,
            "reason": result.reason, "shop_gtid": seen[1], "erp_as_of": computed.as_of.isoformat(),
            "at": _now().isoformat()}).encode())
    elif result.action == "defer":
        _due[sku] = time.monotonic() + sconf.stock_reconcile_delay_s
