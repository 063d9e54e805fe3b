"""Echo suppression at the source: a transaction that starts with a sink's marker row has all its
change events tagged with the sink's name; the marker itself is never emitted."""
from __future__ import annotations

import random
import time

from confluent_kafka import Consumer, TopicPartition

from pssync.schemas.headers import ORIGIN_HEADER
from pssync.sinks import synclog
from tests.integration.support import CaptureThread


def _headers_by_offset(scratch, topic: str, count: int, timeout: float = 20) -> list[dict[str, bytes]]:
    consumer = Consumer({"bootstrap.servers": scratch.stack.kafka_bootstrap, "group.id": f"echo-{random.random()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[dict[str, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error() or msg.value() is None:
                continue
            out.append(dict(msg.headers() or []))
    finally:
        consumer.close()
    return out


def test_sink_transactions_are_tagged_and_shop_transactions_are_not(scratch):
    synclog.ensure_tables(scratch.db)
    settings = scratch.settings(tables=["stock_available"])
    with CaptureThread(settings) as capture:
        capture.wait_committed(scratch.gtid_seq())
        with scratch.db.cursor() as cur:                      # the sink: marker first, then its write
            cur.execute("BEGIN")
            synclog.mark_echo(scratch.db, "shop-db-test")
            cur.execute("UPDATE ps_stock_available SET quantity = 42 WHERE id_stock_available = 1")
            cur.execute("COMMIT")
        scratch.sql("UPDATE ps_stock_available SET quantity = quantity - 1 WHERE id_stock_available = 1")
        capture.wait_committed(scratch.gtid_seq())

    topic = scratch.topic("stock_available")
    headers = _headers_by_offset(scratch, topic, count=10_000, timeout=8)
    streamed = headers[-2:]
    assert streamed[0].get(ORIGIN_HEADER) == b"shop-db-test"
    assert ORIGIN_HEADER not in streamed[1]
    assert all(ORIGIN_HEADER not in h for h in headers[:-2])      # snapshot rows
    assert not any(t.endswith("pssync_echo") for t in _topics(scratch))


def _topics(scratch) -> list[str]:
    from confluent_kafka.admin import AdminClient

    return list(AdminClient({"bootstrap.servers": scratch.stack.kafka_bootstrap}).list_topics(timeout=10).topics)
