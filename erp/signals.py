"""Requests to a running ERP capture (today: take a full stock snapshot), sent through a Kafka
topic as ``pssync cdc snapshot`` signals the binlog capture: the capture takes them in its own
loop and writes the snapshot with its own transactional producer, so asking for a snapshot never
fences it.

The capture reads the signals topic as the only member of the consumer group ``CAPTURE_GROUP``:
that membership is how ``pssync erp snapshot-stock`` tells that a capture is running (a capture
that died stays a member for ``SESSION_TIMEOUT_MS``; the next one started takes the signal). How
far the capture has read the signals, and what the last one gave, is kept in its offsets topic,
in the transaction of the snapshot itself: a signal is carried out once, across restarts."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_END, KafkaError, KafkaException, TopicPartition

from pssync.bus.kafka import BrokerUnavailable, admin, ensure_topics, idempotent_producer, read_committed_consumer
from pssync.errors import PssyncError
from pssync.settings import ErpSettings, Settings

SESSION_TIMEOUT_MS = 10_000


class SignalError(PssyncError):
    """A signal that could not be sent, or was not carried out in time."""


def signals_topic(cfg: ErpSettings) -> str:
    return f"{cfg.topic_prefix}.erp.signals" if cfg.topic_prefix else "pssync.erp.signals"


def capture_group(cfg: ErpSettings) -> str:
    return f"pssync-erp-capture-{cfg.name}"


def progress_key(cfg: ErpSettings) -> bytes:
    """Key, in the capture's offsets topic, of the signals read so far and the last one's outcome."""
    return f"{cfg.name}:signals".encode()


@dataclass(frozen=True)
class Signal:
    offset: int
    id: str
    kind: str


@dataclass(frozen=True)
class Progress:
    """What the capture has done with its signals: the offset of the next one to read, and the
    outcome of the last one (its id, the snapshot it wrote and how many SKUs, or why not)."""
    next_offset: int
    signal: str = ""
    snapshot: str = ""
    skus: int = 0
    error: str = ""

    def to_json(self) -> bytes:
        return json.dumps({"next_offset": self.next_offset, "signal": self.signal, "snapshot": self.snapshot,
                           "skus": self.skus, "error": self.error}).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Progress":
        data = json.loads(raw)
        return cls(int(data["next_offset"]), str(data.get("signal", "")), str(data.get("snapshot", "")),
                   int(data.get("skus", 0)), str(data.get("error", "")))


def ensure_signals_topic(settings: Settings) -> None:
    ensure_topics(settings.kafka, {signals_topic(settings.erp): {}}, timeout=settings.kafka.connect_timeout,
                  partitions=1)


def capture_running(settings: Settings) -> bool:
    """Whether an ERP capture of this name is reading its signals (a member of its group)."""
    group = capture_group(settings.erp)
    timeout = settings.kafka.connect_timeout
    client = admin(settings.kafka)      # kept referenced until the answer came: it serves the future
    try:
        future = client.describe_consumer_groups([group], request_timeout=timeout)[group]
        description = future.result(timeout=timeout + 5)
    except KafkaException as exc:
        err: KafkaError = exc.args[0]
        if err.code() == KafkaError.GROUP_ID_NOT_FOUND:
            return False
        raise BrokerUnavailable(f"Kafka at {settings.kafka.bootstrap_servers} could not describe the "
                                f"group {group}: {err.str()}") from exc
    except TimeoutError as exc:
        raise BrokerUnavailable(f"Kafka at {settings.kafka.bootstrap_servers} did not describe the group "
                                f"{group} within {timeout:.0f}s") from exc
    return bool(description.members)


def offsets_end(settings: Settings) -> int:
    """The end of the capture's offsets topic now (where to look for a signal's outcome from)."""
    consumer = read_committed_consumer(settings.kafka, "pssync-erp-signal-waiter")
    try:
        return consumer.get_watermark_offsets(TopicPartition(settings.erp.offsets_topic, 0),
                                              timeout=settings.kafka.connect_timeout, cached=False)[1]
    except KafkaException:
        return 0
    finally:
        consumer.close()


def request_stock_snapshot(settings: Settings) -> str:
    """Ask the running capture for a stock snapshot; returns the signal id (also the snapshot id)."""
    ensure_signals_topic(settings)
    signal_id = uuid.uuid4().hex
    producer = idempotent_producer(settings.kafka)
    producer.produce(signals_topic(settings.erp), key=settings.erp.name.encode(),
                     value=json.dumps({"id": signal_id, "type": "snapshot-stock"}).encode())
    if producer.flush(settings.kafka.connect_timeout) != 0:
        raise SignalError(f"signal not acknowledged by Kafka at {settings.kafka.bootstrap_servers}")
    return signal_id


def wait_outcome(settings: Settings, signal_id: str, since: int, timeout: float) -> Progress:
    """The capture's outcome of the signal, read from its offsets topic from offset ``since``."""
    consumer = read_committed_consumer(settings.kafka, "pssync-erp-signal-waiter")
    key = progress_key(settings.erp)
    deadline = time.monotonic() + timeout
    try:
        consumer.assign([TopicPartition(settings.erp.offsets_topic, 0, since)])
        while time.monotonic() < deadline:
            msg = consumer.poll(min(1.0, max(0.0, deadline - time.monotonic())))
            if msg is None or msg.error() or msg.key() != key or msg.value() is None:
                continue
            progress = Progress.from_json(msg.value())
            if progress.signal == signal_id:
                return progress
    finally:
        consumer.close()
    raise SignalError(f"the ERP capture {settings.erp.name!r} did not report the stock snapshot {signal_id} "
                      f"within {timeout:.0f}s (it takes it when it next polls; see its log)")


class SignalReader:
    """The capture's side: a member of the capture group, reading its signals from ``start``."""

    def __init__(self, settings: Settings, start: int | None) -> None:
        self.cfg = settings.erp
        self.name = self.cfg.name.encode()
        self.topic = signals_topic(self.cfg)
        ensure_signals_topic(settings)
        self.consumer = read_committed_consumer(settings.kafka, capture_group(self.cfg), **{
            "session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": 2_000,
            "max.poll.interval.ms": 3_600_000, "client.id": f"pssync-erp-capture-{self.cfg.name}"})
        if start is None:   # a capture's first start: signals sent before it are not its own
            start = self._end()
        self.next_offset = start
        self.assigned = False
        self.consumer.subscribe([self.topic], on_assign=self._on_assign)

    def _end(self) -> int:
        try:
            return self.consumer.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=10, cached=False)[1]
        except KafkaException:
            return OFFSET_END

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            tp.offset = self.next_offset
        consumer.assign(partitions)
        self.assigned = True

    def join(self, timeout: float) -> bool:
        """Poll until the group has given this capture the signals partition (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self.assigned and time.monotonic() < deadline:
            self._buffer = self._read(0.1)
            if self._buffer is not None:
                break
        return self.assigned

    _buffer: Signal | None = None

    def _read(self, wait: float) -> Signal | None:
        while True:
            msg = self.consumer.poll(wait)
            if msg is None or msg.error():
                return None
            if msg.key() != self.name:
                self.next_offset = msg.offset() + 1
                continue
            try:
                body = json.loads(msg.value())
                return Signal(msg.offset(), str(body.get("id", "")), str(body["type"]))
            except (ValueError, KeyError, TypeError):
                return Signal(msg.offset(), "", "malformed")

    def poll(self) -> Signal | None:
        """The next signal for this capture, or None; other captures' signals are passed over."""
        if self._buffer is not None:
            found, self._buffer = self._buffer, None
            return found
        return self._read(0)

    def done(self, signal: Signal) -> None:
        """The signal was handled (and its progress committed): read on after it."""
        self.next_offset = signal.offset + 1

    def close(self) -> None:
        self.consumer.close()
