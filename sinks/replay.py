"""Dead letters and past windows: list a dead-letter topic, replay its records, re-run a window.

* **Listing** reads a dead-letter topic (the sinks', the stream processors', the capture's, or any
  Kafka-Connect-style one) with read_committed up to its end and stops. The reason and the origin
  come from the ``__connect.errors.*`` headers each writer sets.
* **Replay** re-produces a dead letter's ORIGINAL key, value and headers to the topic (and
  partition) it was consumed from, with an idempotent producer. The ``__connect.errors.*`` and
  ``pssync.sink`` headers are dropped and ``pssync.replayed-from: <dlq>:<partition>:<offset>`` is
  added (replacing an earlier one: a replay dead-lettered again names its newest source). Only
  copies of consumed records can be replayed: the sinks' dead letters carry the original topic,
  partition and offset; the stream processors' wrap the input in a JSON envelope and the capture's
  hold a row, so both are refused with the reason.
* **Re-run** applies a window of a sink's command topic again through
  :meth:`sinks.runner.SinkRunner.run_range`, leaving the sink's stored offsets alone.

Both are safe because the sinks are idempotent on (resource, external_id, operation,
source_event_id): a command that was applied in the meantime is logged as a 'duplicate'.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from pssync.bus.kafka import idempotent_producer
from pssync.bus.kafka import read_committed_consumer
from pssync.settings import KafkaSettings, Settings
from pssync.errors import PermanentError
from pssync.schemas.dead_letters import (ORIGINAL_OFFSET, ORIGINAL_PARTITION, ORIGINAL_TOPIC,
                                          DeadLetter, replay_headers)

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


# ---- pure parts -------------------------------------------------------------------------------

def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time (``2024-05-01``, ``2024-05-01T12:00``, ``...Z``, ``...+02:00``) as an aware
    datetime; without an offset it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def to_ms(value: dt.datetime) -> int:
    """Epoch milliseconds, as Kafka timestamps are."""
    return int(value.timestamp() * 1000)


def from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


class Refused(PermanentError):
    """A dead letter that cannot be replayed; the message says why."""


def replay_target(record: DeadLetter, dlq_topic: str | None = None) -> tuple[str, int | None]:
    """Where a dead letter goes back to: (topic, partition), or :class:`Refused`. The partition is
    the one it was consumed from (None when unknown: the key's partition then)."""
    topic = record.original_topic
    where = f"{record.topic}:{record.partition}:{record.offset}"
    if topic is None or not topic.strip():
        raise Refused(f"{where}: no {ORIGINAL_TOPIC} header, the original topic is unknown (the capture's "
                      "and the order processor's dead letters hold a row or an envelope, not a record to re-send)")
    if not _TOPIC_NAME.match(topic):
        raise Refused(f"{where}: {ORIGINAL_TOPIC} {topic!r} is not a topic name")
    if record.original_partition is None or record.original_offset is None:
        raise Refused(f"{where}: not a copy of a consumed {topic} record (no {ORIGINAL_PARTITION}/"
                      f"{ORIGINAL_OFFSET} headers; the stream processors' dead letters wrap the input "
                      "in an envelope): fix the input and re-send it at its source")
    if topic == (dlq_topic or record.topic):
        raise Refused(f"{where}: its original topic is the dead-letter topic itself")
    return topic, record.original_partition


def parse_positions(values: Sequence[str], default_partition: int = 0) -> list[tuple[int, int]]:
    """``--offset`` values, ``N`` (in ``default_partition``) or ``P:N``, as sorted unique
    (partition, offset) pairs."""
    out: set[tuple[int, int]] = set()
    for raw in values:
        for item in str(raw).split(","):
            item = item.strip()
            if not item:
                continue
            partition_text, _, offset_text = item.rpartition(":")
            try:
                partition = int(partition_text) if partition_text else default_partition
                offset = int(offset_text)
            except ValueError:
                raise ValueError(f"{item!r} is not an offset (N or PARTITION:N)") from None
            if partition < 0 or offset < 0:
                raise ValueError(f"{item!r}: partitions and offsets are not negative")
            out.add((partition, offset))
    return sorted(out)


def select(records: Iterable[DeadLetter], positions: Sequence[tuple[int, int]] | None = None, *,
           everything: bool = False) -> tuple[list[DeadLetter], list[tuple[int, int]]]:
    """The records to replay, in dead-letter order, and the asked-for positions not found (not
    there, aborted, or a transaction marker)."""
    if everything == (positions is not None and len(positions) > 0):
        raise ValueError("choose either offsets or all records")
    ordered = sorted(records, key=lambda r: r.position)
    if everything:
        return ordered, []
    wanted = set(positions or ())
    chosen = [r for r in ordered if r.position in wanted]
    found = {r.position for r in chosen}
    return chosen, sorted(wanted - found)


def newest(records: Iterable[DeadLetter], limit: int | None) -> list[DeadLetter]:
    """The ``limit`` newest records (all if None), oldest first."""
    ordered = sorted(records, key=lambda r: (r.timestamp or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                                             r.partition, r.offset))
    return ordered if limit is None else ordered[-limit:] if limit > 0 else []


def window_bounds(low: int, high: int, *, start: int | None = None,
                  end: int | None = None) -> tuple[int, int]:
    """[start, end) within what the partition still holds, [low, high): start defaults to low,
    end to high (the current high watermark)."""
    s = low if start is None else max(low, start)
    e = high if end is None else min(high, end)
    return s, max(s, e)


# ---- Kafka ------------------------------------------------------------------------------------

class TopicMissing(PermanentError):
    pass


def _partitions(consumer: Consumer, topic: str, timeout: float) -> list[int]:
    # all topics, not one: asking for one may create it on brokers with auto-creation enabled
    metadata = consumer.list_topics(timeout=timeout)
    described = metadata.topics.get(topic)
    if described is None or described.error is not None and \
            described.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
        raise TopicMissing(f"topic {topic} does not exist")
    return sorted(described.partitions)


def _watermarks(consumer: Consumer, topic: str, partition: int, timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout, cached=False)
        except KafkaException as exc:
            if not exc.args[0].retriable() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def offsets_for_time(consumer: Consumer, topic: str, partition: int, when: dt.datetime,
                     high: int, timeout: float) -> int:
    """The first offset whose timestamp is at or after ``when``; ``high`` when there is none."""
    found = consumer.offsets_for_times([TopicPartition(topic, partition, to_ms(when))], timeout=timeout)[0]
    if found.error is not None:
        raise KafkaException(found.error)
    return high if found.offset < 0 else found.offset


def _reader(kafka: KafkaSettings, purpose: str) -> Consumer:
    # assign() only, nothing is committed: the group id is never used for coordination
    return read_committed_consumer(kafka, f"pssync-{purpose}", **{"enable.partition.eof": True})


def read_dead_letters(kafka: KafkaSettings, topic: str, *, since: dt.datetime | None = None,
                      positions: Sequence[tuple[int, int]] | None = None, limit: int | None = None,
                      timeout: float = 30.0) -> list[DeadLetter]:
    """The committed records of ``topic`` from ``since`` (or the start) to its end, oldest first;
    with ``positions`` only the stretch holding them (the caller picks); with ``limit`` only the
    newest ``limit``."""
    consumer = _reader(kafka, "dead-letter-reader")
    try:
        ranges: dict[int, tuple[int, int]] = {}
        wanted: dict[int, list[int]] = {}
        for partition, offset in positions or ():
            wanted.setdefault(partition, []).append(offset)
        for partition in _partitions(consumer, topic, timeout):
            if positions is not None and partition not in wanted:
                continue
            low, high = _watermarks(consumer, topic, partition, timeout)
            start = low
            if since is not None:
                start = max(start, offsets_for_time(consumer, topic, partition, since, high, timeout))
            end = high
            if partition in wanted:
                start, end = max(start, min(wanted[partition])), min(end, max(wanted[partition]) + 1)
            if start < end:
                ranges[partition] = (start, end)
        kept: dict[int, deque[DeadLetter]] = {p: deque(maxlen=limit if limit and limit > 0 else None)
                                              for p in ranges}
        if not ranges or limit == 0:
            return []
        consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in ranges.items()])
        pending = set(ranges)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} did not reach its end within {timeout:.0f}s "
                                   f"(partitions {sorted(pending)} still open)")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            partition = msg.partition()
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(partition)
                    continue
                raise KafkaException(err)
            if partition not in pending:
                continue
            if msg.offset() >= ranges[partition][1]:
                pending.discard(partition)
                continue
            kept[partition].append(_dead_letter(msg))
            deadline = time.monotonic() + timeout        # progress: the timeout is for silence
            if msg.offset() >= ranges[partition][1] - 1:
                pending.discard(partition)
        return newest((r for records in kept.values() for r in records), limit)
    finally:
        consumer.close()


def _dead_letter(msg: Any) -> DeadLetter:
    kind, ms = msg.timestamp()
    return DeadLetter(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(),
                      timestamp=None if kind == TIMESTAMP_NOT_AVAILABLE else from_ms(ms),
                      key=msg.key(), value=msg.value(), headers=tuple(msg.headers() or ()))


@dataclass
class Replayed:
    record: DeadLetter
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None          # in the original topic, once acknowledged
    error: str | None = None           # refused or not delivered

    @property
    def ok(self) -> bool:
        return self.error is None and self.offset is not None


def replay(kafka: KafkaSettings, records: Sequence[DeadLetter], *, timeout: float = 30.0) -> list[Replayed]:
    """Re-produce each record's original key, value and headers to where it was consumed from, in
    dead-letter order, with an idempotent producer; refused and failed ones say why."""
    results = [Replayed(r) for r in records]
    if not results:
        return results
    producer = idempotent_producer(kafka)
    existing = {name: len(t.partitions) for name, t in producer.list_topics(timeout=timeout).topics.items()
                if t.error is None}
    sent = 0
    for result in results:
        record = result.record
        try:
            topic, partition = replay_target(record)
        except Refused as exc:
            result.error = f"refused: {exc}"
            continue
        if topic not in existing:
            result.error = f"refused: {record.topic}:{record.partition}:{record.offset}: topic {topic} does not exist"
            continue
        if partition is not None and partition >= existing[topic]:
            partition = None           # the topic was re-created smaller: go by the key
        result.topic, result.partition = topic, partition

        def delivered(err: KafkaError | None, msg: Any, result: Replayed = result) -> None:
            if err is not None:
                result.error = f"not delivered: {err.str()}"
            else:
                result.partition, result.offset = msg.partition(), msg.offset()

        extra = {} if partition is None else {"partition": partition}
        producer.produce(topic, key=record.key, value=record.value,
                         headers=replay_headers(record.headers, record.topic, record.partition, record.offset),
                         on_delivery=delivered, **extra)
        sent += 1
        producer.poll(0)
    if sent and producer.flush(timeout) > 0:
        for result in results:
            if result.topic is not None and result.offset is None and result.error is None:
                result.error = f"not acknowledged within {timeout:.0f}s (may still arrive)"
    return results


# ---- re-running a window ----------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    topic: str
    partition: int
    start: int
    end: int             # exclusive

    @property
    def size(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}] offsets {self.start}..{self.end - 1}" if self.size > 0 else \
            f"{self.topic}[{self.partition}] (nothing in the window)"


def resolve_windows(kafka: KafkaSettings, topic: str, *, partitions: Sequence[int] | None = None,
                    from_offset: int | None = None, to_offset: int | None = None,
                    from_time: dt.datetime | None = None, to_time: dt.datetime | None = None,
                    timeout: float = 30.0) -> list[Window]:
    """The [start, end) offsets of the window in each partition: times resolve with
    offsets_for_times (first record at or after), the end defaults to the current high watermark
    and is trimmed to one past the window's last committed record (a transaction marker or an
    aborted record at the end would otherwise keep :meth:`SinkRunner.run_range` waiting for it)."""
    consumer = _reader(kafka, "rerun-planner")
    try:
        available = _partitions(consumer, topic, timeout)
        chosen = available if partitions is None else list(partitions)
        missing = sorted(set(chosen) - set(available))
        if missing:
            raise ValueError(f"topic {topic} has partitions {available}, not {missing}")
        windows = []
        for partition in chosen:
            low, high = _watermarks(consumer, topic, partition, timeout)
            start, end = from_offset, to_offset
            if from_time is not None:
                start = offsets_for_time(consumer, topic, partition, from_time, high, timeout)
            if to_time is not None:
                end = offsets_for_time(consumer, topic, partition, to_time, high, timeout)
            start, end = window_bounds(low, high, start=start, end=end)
            if end > start:
                end = _readable_end(consumer, topic, partition, start, end, timeout)
            windows.append(Window(topic, partition, start, end))
        return windows
    finally:
        consumer.close()


def _readable_end(consumer: Consumer, topic: str, partition: int, start: int, end: int,
                  timeout: float) -> int:
    """One past the last record in [start, end) a read_committed consumer sees, or ``start`` when
    it sees none; looks back from ``end`` in growing steps."""
    span = 64
    while True:
        low = max(start, end - span)
        last = _last_offset(consumer, topic, partition, low, end, timeout)
        if last is not None:
            return last + 1
        if low == start:
            return start
        span *= 16


def _last_offset(consumer: Consumer, topic: str, partition: int, start: int, end: int,
                 timeout: float) -> int | None:
    consumer.assign([TopicPartition(topic, partition, start)])
    last = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return last
                raise KafkaException(err)
            if msg.offset() >= end:
                return last
            last = msg.offset()
            if last >= end - 1:
                return last
            deadline = time.monotonic() + timeout
        raise TimeoutError(f"{topic}[{partition}] did not reach offset {end} within {timeout:.0f}s")
    finally:
        consumer.unassign()


@dataclass
class RerunReport:
    windows: list[Window]
    seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def rerun(settings: Settings, applier: Any, connect: Callable[[], Any], windows: Sequence[Window],
          stop: threading.Event | None = None) -> RerunReport:
    """Apply the windows again through the sink's runner, without touching its stored offsets."""
    from pssync.sinks.runner import SinkRunner

    runner = SinkRunner(settings, applier, connect)
    report = RerunReport(list(windows))
    stop = stop or threading.Event()
    for window in windows:
        if window.size <= 0 or stop.is_set():
            continue
        report.seen += runner.run_range(window.topic, window.partition, window.start, window.end, stop)
    c = runner.counters
    report.counts = {"applied": c.applied, "duplicate": c.duplicate, "skipped": c.skipped,
                     "dead_letter": c.dead_letter, "retries": c.retries}
    return report
