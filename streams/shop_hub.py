"""The shop-events processor: orders become ERP sales-order commands; ERP values become shop
commands; shop-side edits of ERP-owned fields become ownership violations; stock facts are passed
to the stock processor keyed by product.

Partitioned by order (order rows, acknowledgements), by SKU (ERP levels, prices, product flags)
and by product (product and stock rows); see streams.routes. Reference rows (customers, addresses,
currencies, configuration, the product mapping) arrive on every partition and are kept once per
partition (``References``), so every lookup is answered from the partition being processed.

An order is built once its header, its lines (adding up to the order's total) and its first
history row have arrived and the rows it refers to are known; its command id is deterministic,
and ``emitted`` keeps a command from being sent twice. Orders that cannot be mapped go to the
dead-letter topic with the reason.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any, Awaitable, Callable

from pssync.streams.app import (PARTITIONS, ExactTable, app, codec, commands, dead_letter_record, decode, guarded, hubs, is_echo,
                         mapping, rules, send_stock_event, send_to_hub, settings, shop_commands, state,
                         utc_now, violations_out, _plain)
from pssync.schemas.commands import BadCommand, OrderStateCommand, PriceCommand, ProductCommand, TrackingCommand

Command = PriceCommand | ProductCommand | OrderStateCommand | TrackingCommand
from pssync.streams.orders import ConfigurationIncomplete, OrderRows, ProductNotMapped, Unmappable, build_command, line_sku, lines_incomplete, resolve_configuration
from pssync.schemas.codec import VIOLATION
from pssync.streams.retention import stale_orders
from pssync.streams.router import partition_for
from pssync.streams.routes import KIND_HEADER, PRODUCT_TABLES, header, kind_of, order_key, sku_key
from pssync.streams.shop_commands import price_command, product_command, state_command, tracking_command

log = logging.getLogger(__name__)
sconf = settings.streams


class References:
    """Rows every partition may look up, kept once per partition: "<partition>|<what>|<id>"."""

    def __init__(self, table: ExactTable) -> None:
        self.table = table

    @staticmethod
    def key(partition: int, *parts: Any) -> str:
        return "|".join(str(p) for p in (partition, *parts))

    def get(self, partition: int, *parts: Any) -> Any:
        return self.table.get(self.key(partition, *parts))

    def set(self, partition: int, value: Any, *parts: Any) -> None:
        self.table[self.key(partition, *parts)] = value

    def delete(self, partition: int, *parts: Any) -> None:
        if self.key(partition, *parts) in self.table:
            del self.table[self.key(partition, *parts)]

    def sku(self, partition: int, id_product: int, id_product_attribute: int) -> str | None:
        return self.get(partition, "sku", int(id_product), int(id_product_attribute))

    def row(self, partition: int, sku: str) -> tuple[int, int] | None:
        found = self.get(partition, "row", sku)
        return None if found is None else (int(found[0]), int(found[1]))


orders = state("orders")                    # id_order -> {"row": ..., "gtid": ...}
details = state("order-details", dict)      # id_order -> {id_order_detail: row}
history = state("order-history", dict)      # id_order -> {id_order_history: row}
refs = References(state("references"))
pending = state("pending-orders")           # id_order -> partition: waiting for reference rows (retried on each)
unmapped = state("orders-awaiting-mapping", list)  # "<partition>|<id_product>" -> [id_order]: a line of
                                            # theirs has no SKU yet; retried when that product is mapped
emitted = state("emitted-commands", bool)   # command id -> sent
order_stock = state("order-stock", dict)    # id_order -> {"lines": {id_order_detail: [sku, qty, id_product, attr]},
                                            #              "cancelled": bool}
erp_levels = state("erp-levels")            # sku -> latest ERP level (strings) + partition, mapped or not
erp_prices = state("erp-prices")            # sku -> {"price", "changed_at", "version", "partition"}
erp_products = state("erp-products")        # sku -> {"active", "changed_at", "version", "partition"}


# ---- orders -> sales-order commands ---------------------------------------------------------------
def waiting(id_order: int, partition: int, what: str | list[int] | None) -> None:
    """Record what an order waits for: "references" (a customer, address, currency or configuration
    row: retried on every such row of its partition), the products of its lines that have no SKU
    (retried when one of them is mapped), or None: nothing, or only rows of its own (header, lines,
    history), whose arrival tries it again anyway."""
    if what == "references":
        pending[id_order] = partition
    elif id_order in pending:        # Faust tables' pop() raises even with a default
        del pending[id_order]
    entry = orders.get(id_order)
    if entry is None:
        return
    awaits = entry.get("awaits")
    awaited = {awaits} if isinstance(awaits, int) else set(awaits or ())
    products = set(what) if isinstance(what, list) else set()
    if awaited == products:
        return
    for product in awaited - products:
        key = refs.key(partition, product)
        if rest := [o for o in unmapped[key] if o != id_order]:
            unmapped[key] = rest
        elif key in unmapped:
            del unmapped[key]
    for product in products - awaited:
        key = refs.key(partition, product)
        unmapped[key] = sorted({*unmapped[key], id_order})
    orders[id_order] = {**entry, "awaits": sorted(products)}


def sku_of_line(partition: int, id_product: int, id_attribute: int) -> tuple[str, int] | None:
    """The SKU a line counts against, and its combination (see streams.orders.line_sku)."""
    return line_sku(lambda p, a: refs.sku(partition, p, a), id_product, id_attribute)


async def try_emit(id_order: int, partition: int) -> None:
    entry = orders.get(id_order)
    lines, hist = details[id_order], history[id_order]
    if entry is None or not lines or not hist:
        waiting(id_order, partition, None)     # its header, a line or its history is on its way
        return
    order = entry["row"]
    if lines_incomplete(order, list(lines.values())):
        waiting(id_order, partition, None)     # more lines of this order are on their way
        return
    found = [refs.get(partition, "address", order["id_address_delivery"]),
             refs.get(partition, "address", order["id_address_invoice"]),
             refs.get(partition, "customer", order["id_customer"])]
    currencies = refs.get(partition, "currency") or {}
    configuration = refs.get(partition, "configuration") or {}
    if any(r is None for r in found) or order["id_currency"] not in currencies or not configuration:
        waiting(id_order, partition, "references")
        return
    rows = OrderRows(order=order, details=list(lines.values()), history=list(hist.values()),
                     addresses=[found[0], found[1]], customer=found[2], currencies=list(currencies.values()),
                     configuration=list(configuration.values()))
    try:
        command = build_command(rows, mapping, lambda p, a: refs.sku(partition, p, a), entry["gtid"] or "snapshot")
    except ConfigurationIncomplete:
        waiting(id_order, partition, "references")     # more ps_configuration rows may tell its state
        return
    except ProductNotMapped as exc:
        # dead-lettered (once) with the reason, and kept waiting: the mapping row may come after the
        # order (the router does not order topics), or be loaded later; then the command goes out
        await dead_letter_order(id_order, exc.reason, exc.record)
        waiting(id_order, partition, sorted({int(line["product_id"]) for line in lines.values()
                                             if sku_of_line(partition, int(line["product_id"]),
                                                            int(line.get("product_attribute_id") or 0)) is None}))
        return
    except Unmappable as exc:
        await dead_letter_order(id_order, exc.reason, exc.record)
        waiting(id_order, partition, None)
        return
    except Exception as exc:  # bad input never stops the processor: it is parked with the reason
        log.exception("order %s could not be processed", id_order)
        await dead_letter_order(id_order, f"{type(exc).__name__}: {exc}", {"id_order": id_order})
        waiting(id_order, partition, None)
        return
    waiting(id_order, partition, None)
    if command is None or emitted[str(command.command_id)]:
        return
    await commands.send(key=str(command.command_id).encode(), value=codec.encode(settings.streams.commands_topic, command))
    mark_sent(id_order, str(command.command_id))
    log.info("order %s: %s command %s", id_order, command.erp_action, command.command_id)


async def dead_letter_order(id_order: int, reason: str, record: Any) -> None:
    key = f"dead-letter:{id_order}:{reason}"
    if emitted[key]:
        return
    await dead_letter_record(f"order {id_order}", reason, {"id_order": id_order, **record},
                             key=str(id_order).encode())
    mark_sent(id_order, key)


def mark_sent(id_order: int, key: str) -> None:
    """A command or dead letter is out: never again for the same key (kept with the order, so that
    the mark is forgotten with it)."""
    emitted[key] = True
    entry = orders.get(id_order)
    if entry is not None:
        orders[id_order] = {**entry, "sent": sorted({*entry.get("sent", ()), key})}


async def retry_pending(partition: int) -> None:
    for id_order, waiting_in in pending.items():
        if waiting_in == partition:
            await try_emit(int(id_order), partition)


def _change(value: bytes) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    event = decode(value)
    return (None, {}) if event is None else (event["after"], event)


async def on_order(partition: int, value: bytes, headers: Any) -> None:
    row, event = _change(value)
    if row is None:
        return
    known = orders.get(row["id_order"])
    orders[row["id_order"]] = {**(known or {}), "row": row, "ts_ms": event["source"]["ts_ms"],
                               "gtid": (known or {}).get("gtid") or event["source"].get("gtid")}
    await try_emit(row["id_order"], partition)
    await stock_order_state(partition, row, event)


async def keep_order_row(partition: int, value: bytes, table: ExactTable, id_column: str
                         ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Keep a row of one of an order's child tables (lines, history) and try the order again."""
    row, event = _change(value)
    if row is not None:
        rows = table[row["id_order"]]
        rows[row[id_column]] = row
        table[row["id_order"]] = rows
        await try_emit(row["id_order"], partition)
    return row, event


async def on_order_detail(partition: int, value: bytes, headers: Any) -> None:
    row, event = await keep_order_row(partition, value, details, "id_order_detail")
    if row is not None:
        await stock_order_line(partition, row, {"op": event["op"], "ts_ms": event["source"]["ts_ms"],
                                                "gtid": event["source"].get("gtid")})


async def on_order_history(partition: int, value: bytes, headers: Any) -> None:
    await keep_order_row(partition, value, history, "id_order_history")


def reference_handler(table: str, key: str) -> Callable[[int, bytes, Any], Awaitable[None]]:
    async def handle(partition: int, value: bytes, headers: Any) -> None:
        row, _ = _change(value)
        if row is not None:
            refs.set(partition, row, table, row[key])
            await retry_pending(partition)
    return handle


def collection_handler(table: str, key: str) -> Callable[[int, bytes, Any], Awaitable[None]]:
    """Tables read whole (currencies, configuration): one entry per partition holding every row."""
    async def handle(partition: int, value: bytes, headers: Any) -> None:
        row, _ = _change(value)
        if row is not None:
            rows = refs.get(partition, table) or {}
            rows[row[key]] = row
            refs.set(partition, rows, table)
            await retry_pending(partition)
    return handle


# ---- stock facts for the stock processor -------------------------------------------------------------
async def stock_order_line(partition: int, row: dict[str, Any], source: dict[str, Any]) -> None:
    """Every line of every order counts against stock (PrestaShop decrements at checkout), whatever
    its payment state. Snapshot rows are orders placed before capture began: the ERP's stock already
    reflects them (its levels were taken from the shop's), so they are history, not promises.
    ``source``: the line's change event (op, ts_ms, gtid). A line whose product has no SKU (yet) is
    kept aside and counted if the product is mapped later (its order goes to the ERP then)."""
    if source["op"] == "r":
        return
    id_order, line_id = int(row["id_order"]), str(row["id_order_detail"])
    known = order_stock[id_order]
    aside = known.setdefault("unmapped", {})
    found = sku_of_line(partition, int(row["product_id"]), int(row["product_attribute_id"]))
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
        await send_stock_event(int(row["product_id"]), "stock.line", id_order=id_order, sku=sku,
                               attribute=attribute, quantity=str(quantity), placed_ms=source["ts_ms"],
                               cancelled=bool(known.get("cancelled")),
                               trigger=f"order-line:{source['gtid']}:{line_id}")


async def count_lines_mapped_late(partition: int, id_order: int) -> None:
    """Lines kept aside for want of a SKU, counted now if their product has one."""
    aside = order_stock[id_order].get("unmapped") or {}
    rows = details[id_order]
    for line_id, source in sorted(aside.items()):
        if (row := rows.get(int(line_id))) is not None:
            await stock_order_line(partition, row, source)


def _cancel_states(partition: int, order: dict[str, Any]) -> set[int]:
    rows = list((refs.get(partition, "configuration") or {}).values())
    found = set()
    for name in ("PS_OS_CANCELED", "PS_OS_ERROR"):
        value = resolve_configuration(rows, name, int(order["id_shop"]), int(order["id_shop_group"]))
        if value is not None and str(value).isdigit():
            found.add(int(value))
    return found


async def stock_order_state(partition: int, order: dict[str, Any], event: dict[str, Any]) -> None:
    """A cancelled order gives its units back; reinstated, it takes them again."""
    id_order = int(order["id_order"])
    known = order_stock[id_order]
    cancelled = int(order["current_state"]) in _cancel_states(partition, order)
    if cancelled == bool(known.get("cancelled")):
        return
    known["cancelled"] = cancelled
    order_stock[id_order] = known
    for id_product in sorted({int(line[2]) for line in known.get("lines", {}).values()}):
        await send_stock_event(id_product, "stock.cancel" if cancelled else "stock.reinstate", id_order=id_order,
                               trigger=f"order-state:{event['source'].get('gtid')}")


async def on_ack(partition: int, value: bytes, headers: Any) -> None:
    try:
        ack = codec.ack(value, "acks")
    except BadCommand as exc:
        await dead_letter_record(settings.sinks.acks_topic, exc.reason, {})
        return
    if ack.action != "create":
        return
    products = {int(line[2]) for line in order_stock[ack.id_order].get("lines", {}).values()}
    products |= {row[0] for s in ack.lines if (row := refs.row(partition, s)) is not None}
    for id_product in sorted(products):
        await send_stock_event(id_product, "stock.ack", id_order=ack.id_order, acked_at=ack.acked_at.isoformat(),
                               trigger=f"ack:{ack.command_id}")


# ---- the product mapping -------------------------------------------------------------------------------
async def on_mapping(partition: int, value: bytes, headers: Any) -> None:
    event = decode(value)
    if event is None:
        return
    row = event["after"] or event["before"]
    sku, id_product, attribute = row["sku"], int(row["id_product"]), int(row["id_product_attribute"])
    if event["after"] is None:
        refs.delete(partition, "sku", id_product, attribute)
        refs.delete(partition, "row", sku)
        return
    refs.set(partition, sku, "sku", id_product, attribute)
    refs.set(partition, [id_product, attribute], "row", sku)
    # ERP values that arrived before the mapping are sent now, not lost (by the partition holding them)
    level = erp_levels.get(sku)
    if level is not None and level["partition"] == partition:
        await send_level(sku, (id_product, attribute), level, f"mapping:{sku}:{level['version']}")
    price = erp_prices.get(sku)
    if price is not None and price["partition"] == partition:
        await send_price(partition, sku, price, f"mapping:{sku}:{price['version']}")
    product = erp_products.get(sku)
    if product is not None and product["partition"] == partition:
        await send_product(partition, sku, product, f"mapping:{sku}:{product['version']}")
    await retry_pending(partition)
    for id_order in unmapped[refs.key(partition, id_product)]:
        await try_emit(id_order, partition)
        await count_lines_mapped_late(partition, id_order)


# ---- ERP values ----------------------------------------------------------------------------------------
async def send_level(sku: str, row: tuple[int, int], level: dict[str, Any], trigger: str) -> None:
    await send_stock_event(row[0], "stock.level", sku=sku, attribute=row[1], quantity=level["quantity"],
                           as_of=level["as_of"], mode=level["mode"], snapshot_id=level["snapshot_id"],
                           trigger=trigger)


async def on_erp_stock(partition: int, value: bytes, headers: Any) -> None:
    event = decode(value)
    level = {"quantity": str(event["quantity"]), "as_of": event["as_of"].isoformat(), "mode": event["mode"],
             "snapshot_id": event.get("snapshot_id"), "version": event["version"], "partition": partition}
    known = erp_levels.get(event["sku"])
    if known is None or dt.datetime.fromisoformat(known["as_of"]) <= event["as_of"]:
        erp_levels[event["sku"]] = level
    row = refs.row(partition, event["sku"])
    if row is None:
        log.debug("ERP SKU %s is not (yet) mapped to a shop product", event["sku"])
        return
    await send_level(event["sku"], row, level, f"erp-stock:{event['version']}")


def keep_latest(table: ExactTable, partition: int, event: dict[str, Any], **fields: Any) -> dict[str, Any] | None:
    """Store an ERP value of a SKU unless an ERP change newer than it is already held (stored as
    strings, sent again when the mapping arrives or after a violation); None when it is older."""
    known = table.get(event["sku"])
    if known and dt.datetime.fromisoformat(known["changed_at"]) > event["changed_at"]:
        return None
    value = {**fields, "changed_at": event["changed_at"].isoformat(), "version": event["version"],
             "partition": partition}
    table[event["sku"]] = value
    return value


async def send_shop_command(command: Command) -> None:
    await shop_commands.send(key=command.kafka_key,
                             value=codec.encode(settings.streams.shop_commands_topic, command))


async def send_price(partition: int, sku: str, price: dict[str, Any], trigger: str) -> bool:
    row = refs.row(partition, sku)
    if row is None:
        return False            # not (yet) mapped: sent when the mapping arrives
    await send_shop_command(price_command(sku, row, Decimal(price["price"]),
                                          dt.datetime.fromisoformat(price["changed_at"]), trigger, sconf.id_shop,
                                          utc_now()))
    return True


async def send_product(partition: int, sku: str, product: dict[str, Any], trigger: str) -> bool:
    row = refs.row(partition, sku)
    command = None if row is None else product_command(
        sku, row, product["active"], dt.datetime.fromisoformat(product["changed_at"]), trigger, sconf.id_shop,
        utc_now())
    if command is None:
        return False
    await send_shop_command(command)
    return True


async def on_erp_price(partition: int, value: bytes, headers: Any) -> None:
    event = decode(value)
    price = keep_latest(erp_prices, partition, event, price=str(event["list_price"]))
    if price is not None:
        await send_price(partition, event["sku"], price, f"erp-price:{event['version']}")


async def on_erp_product(partition: int, value: bytes, headers: Any) -> None:
    event = decode(value)
    product = keep_latest(erp_products, partition, event, active=bool(event["active"]))
    if product is not None:
        await send_product(partition, event["sku"], product, f"erp-product:{event['version']}")


async def on_reassert(partition: int, value: bytes, headers: Any) -> None:
    """Send the ERP's value of an ERP-owned column again after a shop-side edit."""
    request = json.loads(value)
    sku, column, trigger = request["sku"], request["column"], request["trigger"]
    if column == "price" and (known := erp_prices.get(sku)) is not None:
        sent = await send_price(partition, sku, known, trigger)
    elif column == "active" and (known := erp_products.get(sku)) is not None:
        sent = await send_product(partition, sku, known, trigger)
    else:
        sent = False
    if sent:
        log.info("re-asserted the ERP %s of %s", column, sku)


# ---- shop product and stock rows -------------------------------------------------------------------------
def product_row_handler(table: str) -> Callable[[int, bytes, Any], Awaitable[None]]:
    async def handle(partition: int, value: bytes, headers: Any) -> None:
        event = decode(value)
        if event is None:
            return
        echo = is_echo(headers)
        if not echo and event["op"] == "u":
            await report_violations(partition, table, event)
        if table == "stock_available":
            await stock_row(partition, event, echo)
    return handle



def _text(value: Any) -> str | None:
    """A column value as the violation event carries it: text (null stays null)."""
    return None if value is None else (_plain(value) if not isinstance(value, str) else value)


async def report_violations(partition: int, table: str, event: dict[str, Any]) -> None:
    """Shop-side changes to ERP-owned fields are never propagated: each becomes an ownership
    violation event with its before/after values (our own sink's writes carry the echo marker
    and are not looked at)."""
    for found in rules.violations(table, event["before"], event["after"]):
        key = {c: event["after"].get(c) for c in ("id_product", "id_product_attribute", "id_shop",
                                                  "id_specific_price", "id_stock_available")
               if c in event["after"]}
        await violations_out.send(key=json.dumps(key, sort_keys=True).encode(), value=codec.encode_record(
            settings.streams.violations_topic, VIOLATION, {
                "table": settings.mysql.table_prefix + found.table, "column": found.column,
                "key": {k: (v if v is None or isinstance(v, int) else str(v)) for k, v in key.items()},
                "before": _text(found.before), "after": _text(found.after), "owner": found.owner,
                "entity": found.entity, "gtid": event["source"].get("gtid"),
                "ts_ms": event["source"].get("ts_ms")}))
        log.warning("ownership violation: %s.%s %r -> %r (owned by %s)", found.table, found.column,
                    found.before, found.after, found.owner)
        if sconf.reassert_erp_values and found.owner == "erp" and found.column in ("price", "active"):
            sku = refs.sku(partition, event["after"]["id_product"],
                           event["after"].get("id_product_attribute") or 0)
            if sku is not None:      # the ERP's value lives in the SKU's partition
                await send_to_hub("shop", sku_key(sku), json.dumps({
                    "sku": sku, "column": found.column,
                    "trigger": f"reassert:{event['source'].get('gtid')}:{table}"}).encode(), "reassert")


async def stock_row(partition: int, event: dict[str, Any], echo: bool) -> None:
    """The shop's own stock rows, for the stock processor's reconciliation."""
    row = event["after"]
    if row is None or int(row["id_shop"]) != sconf.id_shop:
        return
    attribute = int(row["id_product_attribute"])
    sku = refs.sku(partition, row["id_product"], attribute)
    if sku is None:
        return
    await send_stock_event(int(row["id_product"]), "stock.shop_row", sku=sku, attribute=attribute,
                           quantity=int(row["quantity"]), gtid=event["source"].get("gtid"), op=event["op"],
                           echo=echo)


# ---- ERP order states and shipments: one event gives its commands, nothing is looked up ------------
async def on_erp_order_status(partition: int, value: bytes, headers: Any) -> None:
    command = state_command(decode(value), sconf.erp_order_states, "order-status", mapping.shop_reference_prefix,
                            utc_now())
    if command is not None:
        await send_shop_command(command)


async def on_erp_shipment(partition: int, value: bytes, headers: Any) -> None:
    event, now = decode(value), utc_now()
    for command in (tracking_command(event, mapping.shop_reference_prefix, now),
                    state_command(event, sconf.erp_shipment_states, "shipment", mapping.shop_reference_prefix, now)):
        if command is not None:
            await send_shop_command(command)


# ---- retention: orders unchanged for streams.order_state_days are forgotten --------------------------------
async def on_prune(partition: int, value: bytes, headers: Any) -> None:
    """Forget this partition's orders last changed before the cutoff: their rows, stock lines,
    waiting marks and sent-command marks (tombstones in the changelogs, so recovery forgets them
    too). Only keys of this partition: a table change goes to the partition being processed."""
    cutoff_ms = int(json.loads(value)["cutoff_ms"])
    forget, unstamped = stale_orders(orders.items(), cutoff_ms,
                                     lambda id_order: partition_for(order_key(id_order), PARTITIONS) == partition)
    for id_order in unstamped:
        orders[id_order] = {**orders.get(id_order), "ts_ms": utc_ms_now()}
    for id_order in forget:
        waiting(id_order, partition, None)
        for key in orders.get(id_order).get("sent", ()):
            if key in emitted:
                del emitted[key]
        for table in (orders, details, history, order_stock):
            if id_order in table:
                del table[id_order]
    if forget:
        log.info("partition %d: forgot %d order(s) unchanged since %s", partition, len(forget),
                 dt.datetime.fromtimestamp(cutoff_ms / 1000, dt.timezone.utc).isoformat())


def utc_ms_now() -> int:
    return int(utc_now().timestamp() * 1000)


@app.timer(interval=sconf.prune_every_s)
async def prune_orders() -> None:
    """Faust lets only stream processing write tables: ask each partition this worker holds."""
    if not sconf.order_state_days:
        return
    cutoff_ms = utc_ms_now() - int(sconf.order_state_days * 86_400_000)
    topic = hubs["shop"].get_topic_name()
    try:
        for partition in sorted(tp.partition for tp in app.consumer.assignment() if tp.topic == topic):
            await hubs["shop"].send(key=b"*", value=json.dumps({"cutoff_ms": cutoff_ms}).encode(),
                                    partition=partition, headers={KIND_HEADER: b"prune"})
    except Exception:   # a timer must never take the worker down (a rebalance, say): the next run asks again
        log.exception("could not ask for forgotten orders to be removed")


HANDLERS: dict[str, Callable[[int, bytes, Any], Awaitable[None]]] = {
    "orders": on_order,
    "order_detail": on_order_detail,
    "order_history": on_order_history,
    "customer": reference_handler("customer", "id_customer"),
    "address": reference_handler("address", "id_address"),
    "currency": collection_handler("currency", "id_currency"),
    "configuration": collection_handler("configuration", "id_configuration"),
    "pssync_product_map": on_mapping,
    "erp.stock": on_erp_stock,
    "erp.price": on_erp_price,
    "erp.product": on_erp_product,
    "erp.order_status": on_erp_order_status,
    "erp.shipment": on_erp_shipment,
    "acks": on_ack,
    "reassert": on_reassert,
    "prune": on_prune,
    **{table: product_row_handler(table) for table in PRODUCT_TABLES},
}


@app.agent(hubs["shop"], name="shop-events")
async def on_shop_event(stream):
    async for event in stream.events():
        message = event.message
        kind = kind_of(header(message.headers, KIND_HEADER))
        handler = HANDLERS.get(kind)
        if handler is None:
            await dead_letter_record("shop-events", f"unknown event kind {kind!r}", {})
            continue
        await guarded(f"shop-events:{kind}", message.value,
                      lambda: handler(message.partition, message.value, message.headers))
