"""Requests to a running capture (snapshot these tables; resolve a table held on a schema
conflict), sent through a Kafka topic so
the capture takes them in order with its own offsets, like Debezium's signalling channel."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from confluent_kafka import TopicPartition

from pssync.bus.kafka import idempotent_producer
from pssync.bus.kafka import ensure_topics, read_committed_consumer
from pssync.settings import Settings


def signals_topic(settings: Settings) -> str:
    return f"{settings.capture.topic_prefix}.cdc.signals"


@dataclass(frozen=True)
class Signal:
    offset: int
    id: str
    kind: str
    tables: tuple[str, ...]
    mode: str = ""            # resolve: force | retry


def request_snapshot(settings: Settings, tables: list[str]) -> str:
    return _send(settings, {"type": "snapshot", "tables": tables})


def request_resolve(settings: Settings, table: str, mode: str) -> str:
    """Ask the capture to resume a held table (see Capture._accept_resolve)."""
    return _send(settings, {"type": "resolve", "tables": [table], "mode": mode})


def _send(settings: Settings, body: dict) -> str:
    ensure_topics(settings.kafka, {signals_topic(settings): {}}, timeout=settings.kafka.connect_timeout)
    signal_id = uuid.uuid4().hex
    producer = idempotent_producer(settings.kafka)
    producer.produce(signals_topic(settings), key=settings.capture.name.encode(),
                     value=json.dumps({"id": signal_id, **body}).encode())
    if producer.flush(settings.kafka.connect_timeout) != 0:
        raise RuntimeError(f"signal not acknowledged by Kafka at {settings.kafka.bootstrap_servers}")
    return signal_id


class SignalReader:
    def __init__(self, settings: Settings, start_offset: int) -> None:
        self.name = settings.capture.name.encode()
        self.consumer = read_committed_consumer(settings.kafka, f"pssync-signals-{settings.capture.name}")
        self.consumer.assign([TopicPartition(signals_topic(settings), 0, start_offset)])

    def poll(self) -> Signal | None:
        """The next signal for this capture, or None; other captures' signals are skipped."""
        while True:
            msg = self.consumer.poll(0)
            if msg is None or msg.error():
                return None
            if msg.key() != self.name:
                continue
            try:
                body = json.loads(msg.value())
                return Signal(msg.offset(), str(body.get("id", "")), str(body["type"]),
                              tuple(body.get("tables", ())), str(body.get("mode", "")))
            except (ValueError, KeyError, TypeError):
                return Signal(msg.offset(), "", "malformed", ())

    def close(self) -> None:
        self.consumer.close()
