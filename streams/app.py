"""Faust application: PrestaShop orders become ERP sales-order commands.

State lives in changelog-backed Faust tables; consumers read committed data only (see
kafka_transport). An order is built once its header, at least one line and its first history
row have arrived (PrestaShop writes the history row after the lines) and the rows it refers to
(customer, addresses, currency, configuration) are known; its command id is deterministic, and an
``emitted`` table keeps a command from being sent twice. Orders that cannot be mapped go to the
dead-letter topic with the reason. Run with ``pssync streams worker`` (or ``faust -A streams.app``).

Topics are read with one partition each here; with more partitions the lookups must be
co-partitioned (repartition by id_order), which is the next step for this module.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import os
import pickle
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import faust

from bus.avro import RegistryDecoder
from bus.registry import registry_client
from cdc.capture import ORIGIN_HEADER
from cdc.events import topic_for
from pssync.settings import Settings, load_settings
from streams.commands import encode_sales_order
from streams.kafka_transport import install
from streams.orders import OrderMapping, OrderRows, Unmappable, build_command, lines_incomplete
from streams.rules import Rules, load_rules

log = logging.getLogger(__name__)
settings: Settings = load_settings()
cap = settings.capture
mapping = OrderMapping.from_yaml(Path(settings.streams.order_mapping).read_text(encoding="utf-8"))
def live_columns() -> dict[str, set[str]]:
    """Columns of the shop database as it is (rules are validated against them at start)."""
    from cdc.database import connect

    conn = connect(settings.mysql)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
                        "WHERE TABLE_SCHEMA=%s", (settings.mysql.database,))
            rows = cur.fetchall()
    finally:
        conn.close()
    prefix = settings.mysql.table_prefix
    columns: dict[str, set[str]] = {}
    for row in rows:
        table = row["TABLE_NAME"]
        if table.startswith(prefix):
            columns.setdefault(table[len(prefix):], set()).add(row["COLUMN_NAME"])
    return columns


rules: Rules = load_rules(settings.streams.rules, live_columns(), settings.mysql.table_prefix)
decode = RegistryDecoder(registry_client(settings.registry.url, settings.registry.basic_auth_user_info))

app = faust.App(
    f"pssync-streams-{cap.name}",
    broker=f"{install()}://{settings.kafka.bootstrap_servers}",
    store="memory://",
    # Faust keeps a small data directory even with in-memory tables: not in the working directory
    datadir=str(Path(os.environ.get("PSSYNC_STREAMS_DATADIR", tempfile.gettempdir())) / "{conf.name}-data"),
    topic_replication_factor=settings.kafka.topic_replication_factor,
    topic_partitions=1,
    table_standby_replicas=0,
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    processing_guarantee="at_least_once",
    # version 3: table values stored exactly (ExactTable; versions 1-2 lost Decimal/datetime on
    # recovery); a new version is a new consumer group and new changelog topics, rebuilt from the
    # source topics
    version=3,
    # table state (rows with Decimal and datetime values) is written to and recovered from the
    # changelog topics with these; the source topics set raw bytes explicitly
    key_serializer="json",
    value_serializer="pickle",
)


def source(table: str, prefixed: bool = True) -> faust.TopicT:
    name = settings.mysql.table_prefix + table if prefixed else table
    return app.topic(topic_for(cap.topic_prefix, settings.mysql.database, name),
                     key_serializer="raw", value_serializer="raw")


class ExactTable:
    """A changelog-backed Faust table whose values come back from the changelog (after a restart)
    exactly as they were stored: Decimal, datetime, int dict keys. faust-streaming 0.15 writes
    table changelogs with its JSON codec whatever schema is given, which returns those as strings;
    so values are stored as pickles in base64 text. Only the operations the agents use."""

    def __init__(self, table: faust.Table, default: Any = None) -> None:
        self.table = table
        self.default = default

    @staticmethod
    def _load(raw: str) -> Any:
        return pickle.loads(base64.b64decode(raw))

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self.table.get(key)
        return default if raw is None else self._load(raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self.table.get(key)
        if raw is None:
            return self.default() if self.default is not None else None
        return self._load(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.table[key] = base64.b64encode(pickle.dumps(value, protocol=5)).decode()

    def __contains__(self, key: Any) -> bool:
        return self.table.get(key) is not None

    def __delitem__(self, key: Any) -> None:
        del self.table[key]

    def keys(self) -> list[Any]:
        return list(self.table.keys())

    def values(self) -> list[Any]:
        return [self._load(v) for v in self.table.values()]


def state(name: str, default: Any = None) -> ExactTable:
    return ExactTable(app.Table(name, default=None, partitions=1), default)


orders = state("orders")                    # id_order -> {"row": ..., "gtid": ...}
details = state("order-details", dict)      # id_order -> {id_order_detail: row}
history = state("order-history", dict)      # id_order -> {id_order_history: row}
customers = state("customers")              # id_customer -> row
addresses = state("addresses")              # id_address -> row
currencies = state("currencies")            # id_currency -> row
configuration = state("configuration", dict)  # "all" -> {id_configuration: row}
product_map = state("product-map")          # "id_product:id_product_attribute" -> sku
pending = state("pending-orders", bool)     # id_order -> waiting for something
emitted = state("emitted-commands", bool)   # command id -> sent

commands = app.topic(settings.streams.commands_topic, key_serializer="raw", value_serializer="raw")
dead_letters = app.topic(settings.streams.dead_letter_topic, key_serializer="raw", value_serializer="raw")
violations_out = app.topic(settings.streams.violations_topic, key_serializer="raw", value_serializer="raw")


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def sku_for(id_product: int, id_product_attribute: int) -> str | None:
    return product_map.get(f"{id_product}:{id_product_attribute}")


def forget_pending(id_order: int) -> None:
    if id_order in pending:  # Faust tables' pop() raises even with a default
        del pending[id_order]


_emit_lock = asyncio.Lock()   # agents run concurrently: check-then-send must not interleave


async def try_emit(id_order: int) -> None:
    async with _emit_lock:
        await _try_emit(id_order)


async def _try_emit(id_order: int) -> None:
    entry = orders.get(id_order)
    lines, hist = details[id_order], history[id_order]
    if entry is None or not lines or not hist:
        pending[id_order] = True
        return
    order = entry["row"]
    if lines_incomplete(order, list(lines.values())):
        pending[id_order] = True          # more lines of this order are still on their way
        return
    refs = [addresses.get(order["id_address_delivery"]), addresses.get(order["id_address_invoice"]),
            customers.get(order["id_customer"]), currencies.get(order["id_currency"])]
    if any(r is None for r in refs) or not configuration["all"]:
        pending[id_order] = True
        return
    rows = OrderRows(order=order, details=list(lines.values()), history=list(hist.values()),
                     addresses=[refs[0], refs[1]], customer=refs[2], currencies=list(currencies.values()),
                     configuration=list(configuration["all"].values()))
    try:
        command = build_command(rows, mapping, sku_for, entry["gtid"] or "snapshot")
    except Unmappable as exc:
        await dead_letter(id_order, exc.reason, exc.record)
        forget_pending(id_order)
        return
    except Exception as exc:  # bad input never stops the processor: it is parked with the reason
        log.exception("order %s could not be processed", id_order)
        await dead_letter(id_order, f"{type(exc).__name__}: {exc}", {"id_order": id_order})
        forget_pending(id_order)
        return
    forget_pending(id_order)
    if command is None or emitted[str(command.command_id)]:
        return
    await commands.send(key=str(command.command_id).encode(), value=encode_sales_order(command))
    emitted[str(command.command_id)] = True
    log.info("order %s: %s command %s", id_order, command.erp_action, command.command_id)


async def dead_letter(id_order: int, reason: str, record: Any) -> None:
    key = f"dead-letter:{id_order}:{reason}"
    if emitted[key]:
        return
    await dead_letters.send(key=str(id_order).encode(), value=json.dumps(
        {"id_order": id_order, "reason": reason, "record": record}, default=_plain).encode(),
        headers={"__connect.errors.exception.message": reason.encode()})
    emitted[key] = True


async def dead_letter_record(where: str, reason: str, record: Any) -> None:
    """Any other record the processors cannot use: parked with the reason, processing goes on."""
    log.error("%s: dead-lettered: %s", where, reason)
    await dead_letters.send(key=where.encode(), value=json.dumps(
        {"source": where, "reason": reason, "record": record}, default=_plain).encode(),
        headers={"__connect.errors.exception.message": reason.encode(),
                 "__connect.errors.topic": where.encode()})


async def retry_pending() -> None:
    for id_order in list(pending.keys()):
        await try_emit(int(id_order))


def is_echo(headers: Any) -> bool:
    if not headers:
        return False
    items = headers.items() if hasattr(headers, "items") else headers
    return any((k.decode() if isinstance(k, bytes) else k) == ORIGIN_HEADER for k, _ in items)


def after_image(value: bytes | None) -> tuple[dict | None, str | None]:
    event = decode(value)
    if event is None:
        return None, None
    return event["after"], event["source"].get("gtid")


@app.agent(source("orders"))
async def on_orders(stream):
    async for value in stream:
        row, gtid = after_image(value)
        if row is None:
            continue
        known = orders.get(row["id_order"])
        orders[row["id_order"]] = {"row": row, "gtid": (known or {}).get("gtid") or gtid}
        await try_emit(row["id_order"])


def order_rows_agent(table: str, target: faust.Table, key: str) -> None:
    """Rows that belong to an order (lines, history), kept per id_order."""
    async def agent(stream):
        async for value in stream:
            row, _ = after_image(value)
            if row is not None:
                rows = target[row["id_order"]]
                rows[row[key]] = row
                target[row["id_order"]] = rows
                await try_emit(row["id_order"])
    app.agent(source(table), name=f"on-{table}")(agent)


order_rows_agent("order_detail", details, "id_order_detail")
order_rows_agent("order_history", history, "id_order_history")


def reference_agent(table: str, target: faust.Table, key: str) -> None:
    async def agent(stream):
        async for value in stream:
            row, _ = after_image(value)
            if row is not None:
                target[row[key]] = row
                await retry_pending()
    app.agent(source(table), name=f"on-{table}")(agent)


reference_agent("customer", customers, "id_customer")
reference_agent("address", addresses, "id_address")
reference_agent("currency", currencies, "id_currency")


@app.agent(source("configuration"))
async def on_configuration(stream):
    async for value in stream:
        row, _ = after_image(value)
        if row is not None:
            rows = configuration["all"]
            rows[row["id_configuration"]] = row
            configuration["all"] = rows
            await retry_pending()


@app.agent(source("pssync_product_map", prefixed=False))
async def on_product_map(stream):
    async for value in stream:
        row, _ = after_image(value)
        if row is not None:
            product_map[f"{row['id_product']}:{row['id_product_attribute']}"] = row["sku"]
            await retry_pending()


def violations_agent(table: str) -> None:
    """Shop-side changes to ERP-owned fields are never propagated: each becomes an ownership
    violation event with its before/after values."""
    async def agent(stream):
        async for message in stream.events():
            if is_echo(message.headers):
                continue        # our own sink's write (echo marker in its transaction)
            event = decode(message.value)
            if event is None or event["op"] != "u":
                continue
            for found in rules.violations(table, event["before"], event["after"]):
                key = {c: event["after"].get(c) for c in ("id_product", "id_product_attribute",
                                                          "id_shop", "id_specific_price",
                                                          "id_stock_available") if c in event["after"]}
                await violations_out.send(key=json.dumps(key, sort_keys=True).encode(), value=json.dumps({
                    "table": settings.mysql.table_prefix + found.table, "column": found.column,
                    "key": key, "before": found.before, "after": found.after, "owner": found.owner,
                    "entity": found.entity, "gtid": event["source"].get("gtid"),
                    "ts_ms": event["source"].get("ts_ms")}, default=_plain).encode())
                log.warning("ownership violation: %s.%s %r -> %r (owned by %s)", found.table,
                            found.column, found.before, found.after, found.owner)
                if found.owner == "erp" and found.column in ("price", "active"):
                    from streams.to_shop import reassert

                    sku = sku_for(int(event["after"]["id_product"]),
                                  int(event["after"].get("id_product_attribute") or 0))
                    if sku and await reassert(sku, found.column, f"reassert:{event['source'].get('gtid')}:{table}"):
                        log.info("re-asserted the ERP %s of %s", found.column, sku)
    app.agent(source(table), name=f"ownership-{table}")(agent)


for _table in sorted(set(cap.tables) & {"product", "product_shop", "product_attribute",
                                          "specific_price", "stock_available"}):
    violations_agent(_table)


import streams.to_shop  # noqa: E402,F401  (registers the ERP -> PrestaShop agents on this app)
