"""The Faust application the processors run in, and what is Faust-specific about them: its
configuration, tables whose values survive the changelog exactly, topics of raw bytes, the log
level. Nothing is made at import: streams.worker.build_app builds the application from settings.

The data flow (each stage its own module):
  source topics --streams.router--> shop-events / stock-events (internal, partitioned by the lookup key;
  see streams.routes) --shop-events: streams.orders_hub, streams.erp_values, streams.erp_states,
  streams.stock_facts--> sales-order commands, price/product/state/tracking commands, violations,
  and stock events --stock-events: streams.stock_hub--> stock commands, drift alerts.
The router is a confluent-kafka consumer group started beside the Faust app by ``pssync streams worker``.

State lives in changelog-backed Faust tables (streams.state); consumers read committed data only (see
kafka_transport). Run with ``pssync streams worker``; several workers share the partitions of the
internal topics (``streams.partitions``).
"""
from __future__ import annotations

import base64
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import faust

from pssync.settings import Settings
from pssync.streams.kafka_transport import install
from pssync.streams.routes import APP_VERSION, Hub, app_name, hub_topic_name


def faust_app(settings: Settings) -> faust.App:
    """The application, named after the capture (its id prefixes its consumer group, internal and
    changelog topics)."""
    return faust.App(
        app_name(settings.capture.name),
        broker=f"{install()}://{settings.kafka.bootstrap_servers}",
        store="memory://",
        # Faust keeps a small data directory even with in-memory tables: not in the working directory
        datadir=str(Path(os.environ.get("PSSYNC_STREAMS_DATADIR", tempfile.gettempdir())) / "{conf.name}-data"),
        topic_replication_factor=settings.kafka.topic_replication_factor,
        topic_partitions=settings.streams.partitions,
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

    def __init__(self, table: Any, default: Any = None) -> None:
        self.table = table
        self.default = default

    @staticmethod
    def _load(raw: str) -> Any:
        return pickle.loads(base64.b64decode(raw))

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self.table.get(key)
        return default if raw is None else self._load(raw)

    def stored(self, key: Any) -> str | None:
        """The encoded value: the same object until the key is set again (or recovered)."""
        return self.table.get(key)

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


def exact_table(app: faust.App, name: str) -> ExactTable:
    """A table of the application, one partition per partition of the internal topics (its
    changelog topic: ``<app id>-<name>-changelog``)."""
    return ExactTable(app.Table(name, default=None, partitions=app.conf.topic_partitions))


def raw_topic(app: faust.App, name: str) -> faust.TopicT:
    """An output topic: keys and values are bytes made by streams.outputs."""
    return app.topic(name, key_serializer="raw", value_serializer="raw")


def hub_topic(app: faust.App, hub: Hub) -> faust.TopicT:
    """One of the internal topics the processors keep their state by (see streams.routes)."""
    return app.topic(hub_topic_name(app.conf.id, hub), key_serializer="raw", value_serializer="raw",
                     partitions=app.conf.topic_partitions, internal=True)


def keep_log_level(app: faust.App, level: str) -> None:
    """At ``warn`` and above, Faust's worker sets the root logger to DEBUG so that every record
    turns its terminal spinner; aiokafka and Faust then build a log record for each debug call,
    per message sent (7 % of a busy worker's time, measured with benchmarks/bench_streams.py).
    Once the worker runs, the root logger is set back to the level asked for."""
    number = {"crit": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG}.get(level.lower(), logging.INFO)

    @app.task
    async def restore_log_level() -> None:
        logging.root.setLevel(number)
