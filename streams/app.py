"""The Faust application and what its agents share: settings, decoding, state tables, topics.

The data flow (each stage its own module):
  source topics --streams.router--> shop-events / stock-events (internal, partitioned by the lookup key;
  see streams.routes) --streams.shop_hub--> sales-order commands, price/product/state/tracking
  commands, violations, and stock events --streams.stock_hub--> stock commands, drift alerts.
The router is a confluent-kafka consumer group started beside the Faust app by ``pssync streams worker``.

State lives in changelog-backed Faust tables; consumers read committed data only (see
kafka_transport). Run with ``pssync streams worker``; several workers share the partitions of the
internal topics (``streams.partitions``).
"""
from __future__ import annotations

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
from typing import Any, Awaitable, Callable

import faust

from pssync.bus.avro import RegistryDecoder
from pssync.bus.registry import registry_client
from pssync.schemas.codec import ALERT, PROCESSOR_DEAD_LETTER, SALES_ORDER, SHOP_COMMAND, VIOLATION, Codec
from pssync.schemas.dead_letters import error_headers
from pssync.schemas.headers import ORIGIN_HEADER
from pssync.settings import Settings, load_settings
from pssync.streams.kafka_transport import guard_stalls, install
from pssync.streams.orders import OrderMapping
from pssync.streams.routes import APP_VERSION, KIND_HEADER, Hub, app_name, header, hub_topic_name, product_key
from pssync.streams.rules import Rules, load_rules

log = logging.getLogger(__name__)
settings: Settings = load_settings()
cap = settings.capture
PARTITIONS = settings.streams.partitions
mapping = OrderMapping.from_yaml(Path(settings.streams.order_mapping).read_text(encoding="utf-8"))


def live_columns() -> dict[str, set[str]]:
    """Columns of the shop database as it is (rules are validated against them at start)."""
    from pssync.prestashop.database import connect

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
codec = Codec.from_settings(settings)
for _topic, _contract in ((settings.streams.commands_topic, SALES_ORDER),
                          (settings.streams.shop_commands_topic, SHOP_COMMAND),
                          (settings.streams.violations_topic, VIOLATION), (settings.streams.alerts_topic, ALERT),
                          (settings.streams.dead_letter_topic, PROCESSOR_DEAD_LETTER)):
    codec.prepare(_topic, _contract)

app = faust.App(
    app_name(cap.name),
    broker=f"{install()}://{settings.kafka.bootstrap_servers}",
    store="memory://",
    # Faust keeps a small data directory even with in-memory tables: not in the working directory
    datadir=str(Path(os.environ.get("PSSYNC_STREAMS_DATADIR", tempfile.gettempdir())) / "{conf.name}-data"),
    topic_replication_factor=settings.kafka.topic_replication_factor,
    topic_partitions=PARTITIONS,
    table_standby_replicas=0,
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    # at-least-once: faust-streaming's exactly_once is experimental (its transaction code logs and
    # carries on after a fenced producer); every command here is safe to process twice instead
    processing_guarantee="at_least_once",
    # a crashed worker's partitions move to the others after this (Faust's default is 60 s)
    broker_session_timeout=settings.streams.session_timeout_s,
    # version 4: state partitioned by the internal topics of streams.routes (version 3 read the
    # source topics directly, single partition only); a new version is a new consumer group and
    # new internal and changelog topics, rebuilt from the source topics
    version=APP_VERSION,
    # table state (rows with Decimal and datetime values) is written to and recovered from the
    # changelog topics with these; the source topics set raw bytes explicitly
    key_serializer="json",
    value_serializer="pickle",
)


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

    def items(self) -> list[tuple[Any, Any]]:
        return [(k, self._load(v)) for k, v in self.table.items()]


def keep_log_level(level: str) -> None:
    """At ``warn`` and above, Faust's worker sets the root logger to DEBUG so that every record
    turns its terminal spinner; aiokafka and Faust then build a log record for each debug call,
    per message sent (7 % of a busy worker's time, measured with benchmarks/bench_streams.py).
    Once the worker runs, the root logger is set back to the level asked for."""
    number = {"crit": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG}.get(level.lower(), logging.INFO)

    @app.task
    async def restore_log_level() -> None:
        logging.root.setLevel(number)


def state(name: str, default: Any = None) -> ExactTable:
    return ExactTable(app.Table(name, default=None, partitions=PARTITIONS), default)


commands = app.topic(settings.streams.commands_topic, key_serializer="raw", value_serializer="raw")
dead_letters = app.topic(settings.streams.dead_letter_topic, key_serializer="raw", value_serializer="raw")
violations_out = app.topic(settings.streams.violations_topic, key_serializer="raw", value_serializer="raw")
shop_commands = app.topic(settings.streams.shop_commands_topic, key_serializer="raw", value_serializer="raw")
alerts = app.topic(settings.streams.alerts_topic, key_serializer="raw", value_serializer="raw")


def hub_topic(name: str) -> faust.TopicT:
    """One of the internal topics the processors keep their state by (see streams.routes)."""
    return app.topic(hub_topic_name(app.conf.id, name), key_serializer="raw", value_serializer="raw",
                     partitions=PARTITIONS, internal=True)


hubs: dict[Hub, faust.TopicT] = {"shop": hub_topic("shop"), "stock": hub_topic("stock")}
guard_stalls(app, {hub_topic_name(app.conf.id, h) for h in hubs})


async def send_to_hub(hub: Hub, key: str, value: bytes, kind: str) -> None:
    """An event for a hub, to the key's partition (the router puts source events there the same way)."""
    await hubs[hub].send(key=key.encode(), value=value, headers={KIND_HEADER: kind.encode()})


async def send_stock_event(id_product: int, kind: str, **fields: Any) -> None:
    await send_to_hub("stock", product_key(id_product), json.dumps(
        {**fields, "id_product": int(id_product)}, default=_plain).encode(), kind)


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


async def dead_letter_record(where: str, reason: str, record: Any, key: bytes | None = None) -> None:
    """A record the processors cannot use: parked with the reason, processing goes on."""
    log.error("%s: dead-lettered: %s", where, reason)
    value = codec.encode_record(settings.streams.dead_letter_topic, PROCESSOR_DEAD_LETTER, {
        "source": where, "reason": reason, "record": json.dumps(record, default=_plain, sort_keys=True)})
    await dead_letters.send(key=key or where.encode(), value=value, headers=error_headers(reason, topic=where))


async def guarded(where: str, value: bytes | None, handler: Callable[[], Awaitable[None]]) -> None:
    """Run one event's handler; a failure dead-letters the event with the reason instead of
    crashing the agent (Faust would restart it and lose its place in the stream)."""
    try:
        await handler()
    except Exception as exc:
        log.exception("%s: event failed", where)
        await dead_letter_record(where, f"{type(exc).__name__}: {exc}", {"value_hex": (value or b"")[:2048].hex()})


def is_echo(headers: Any) -> bool:
    return header(headers, ORIGIN_HEADER) is not None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# the agents register themselves on this app
import pssync.streams.shop_hub  # noqa: E402,F401
import pssync.streams.stock_hub  # noqa: E402,F401
