"""Source offsets, kept apart from the events: where in the binlog the last Kafka transaction
ended. Written to a compacted topic inside the same Kafka transaction as the events it covers."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from bus.kafka import read_committed_consumer
from pssync.settings import KafkaSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdhocSnapshot:
    """An on-demand snapshot in progress: tables still to read, and the primary key of the last
    row emitted from the first of them (None: that table not started)."""
    tables: tuple[str, ...]
    after_key: tuple | None = None
    signal_id: str = ""


@dataclass(frozen=True)
class SourceOffset:
    gtid: str                 # MariaDB GTID position: last transaction fully written to Kafka
    file: str                 # binlog file/position after that transaction (for people and lag)
    pos: int
    ts_ms: int = 0            # source commit time of that transaction
    snapshot_completed: bool = True
    server_id: int = 0
    signal_offset: int = 0    # next record to read in the signals topic
    adhoc: "AdhocSnapshot | None" = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "SourceOffset":
        data = json.loads(raw)
        known = {f for f in cls.__dataclass_fields__}
        data = {k: v for k, v in data.items() if k in known}
        if data.get("adhoc"):
            adhoc = data["adhoc"]
            data["adhoc"] = AdhocSnapshot(tuple(adhoc["tables"]),
                                          tuple(adhoc["after_key"]) if adhoc.get("after_key") else None,
                                          adhoc.get("signal_id", ""))
        return cls(**data)

    def advanced(self, **changes: object) -> "SourceOffset":
        return replace(self, **changes)


class OffsetStore:
    def __init__(self, kafka: KafkaSettings, topic: str, name: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self.key = name.encode()

    def load(self, timeout: float = 30.0) -> SourceOffset | None:
        """Last committed offset for this connector (read_committed, whole topic)."""
        consumer = read_committed_consumer(self.kafka, group_id=f"pssync-offsets-reader",
                                           **{"enable.partition.eof": True})
        found: SourceOffset | None = None
        try:
            tp = TopicPartition(self.topic, 0)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    low, high = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)
                    break
                except KafkaException as exc:
                    code = exc.args[0].code()
                    if code in (KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART):
                        return None  # the topic does not exist yet: never committed
                    if not exc.args[0].retriable() and code != KafkaError.NOT_LEADER_FOR_PARTITION \
                            or time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)  # a new topic's leader is still being elected
            if high <= low:
                return None
            consumer.assign([TopicPartition(self.topic, 0, low)])
            while True:
                msg = consumer.poll(timeout)
                if msg is None:
                    raise TimeoutError(f"offsets topic {self.topic} did not reach its end in {timeout}s")
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        break
                    raise RuntimeError(f"reading {self.topic}: {msg.error()}")
                if msg.key() == self.key:
                    found = SourceOffset.from_bytes(msg.value()) if msg.value() else None
        finally:
            consumer.close()
        return found

    def record(self, offset: SourceOffset) -> tuple[str, bytes, bytes]:
        return self.topic, self.key, offset.to_bytes()
