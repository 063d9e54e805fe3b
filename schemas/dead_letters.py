"""The dead-letter format every pssync stage writes and every tool reads: the original record's
key and value (or, where there is no consumed record, an envelope), with Kafka Connect's
``__connect.errors.*`` headers naming where it came from and why it was parked, so tools built for
Kafka Connect's dead-letter queues read ours too.

One writer (:func:`error_headers`), one reader (:class:`DeadLetter`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ERRORS_PREFIX = "__connect.errors."
ORIGINAL_TOPIC = "__connect.errors.topic"
ORIGINAL_PARTITION = "__connect.errors.partition"
ORIGINAL_OFFSET = "__connect.errors.offset"
ERROR_CLASS = "__connect.errors.exception.class.name"
ERROR_MESSAGE = "__connect.errors.exception.message"
TABLE = "__connect.errors.table"            # the capture: the source table, GTID and binlog position
GTID = "__connect.errors.gtid"
POSITION = "__connect.errors.position"
COLUMN = "pssync.column"                   # the capture's bad value: its column, and the value as text
VALUE = "pssync.value"                     # (at most VALUE_MAX characters)
VALUE_MAX = 1000
SCHEMA_SUBJECT = "pssync.schema.subject"   # the registry subject and schema id the record was to be
SCHEMA_ID = "pssync.schema.id"             # written with (the capture's rows; absent before registration)
SINK_HEADER = "pssync.sink"                 # the sink that parked it
REPLAYED_FROM = "pssync.replayed-from"      # <dlq>:<partition>:<offset> of the dead letter it was replayed from


Header = tuple[str, "bytes | None"]


def error_headers(reason: str, *, error_class: str | None = None, topic: str | None = None,
                  partition: int | None = None, offset: int | None = None, table: str | None = None,
                  gtid: str | None = None, position: str | None = None, sink: str | None = None,
                  subject: str | None = None, schema_id: int | None = None,
                  column: str | None = None, value: str | None = None,
                  keep: Iterable[Header] = ()) -> list[Header]:
    """The headers of a dead letter: ``keep`` (the original record's own headers), then where it
    came from (a consumed record's topic, partition and offset; or a source table's GTID and binlog
    position), the error class and message, and the sink that parked it."""
    out: list[Header] = list(keep)
    if topic is not None:
        out.append((ORIGINAL_TOPIC, topic.encode()))
    if partition is not None:
        out.append((ORIGINAL_PARTITION, str(partition).encode()))
    if offset is not None:
        out.append((ORIGINAL_OFFSET, str(offset).encode()))
    if error_class is not None:
        out.append((ERROR_CLASS, error_class.encode()))
    out.append((ERROR_MESSAGE, reason.encode()))
    if table is not None:
        out.append((TABLE, table.encode()))
    if gtid is not None:
        out.append((GTID, gtid.encode()))
    if position is not None:
        out.append((POSITION, position.encode()))
    if column is not None:
        out.append((COLUMN, column.encode()))
    if value is not None:
        out.append((VALUE, value[:VALUE_MAX].encode()))
    if subject is not None:
        out.append((SCHEMA_SUBJECT, subject.encode()))
    if schema_id is not None:
        out.append((SCHEMA_ID, str(schema_id).encode()))
    if sink is not None:
        out.append((SINK_HEADER, sink.encode()))
    return out


def text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def preview(data: bytes | None, width: int = 80) -> str:
    """A one-line glimpse of a key or value: text when it decodes as printable UTF-8, else hex."""
    if data is None:
        return "(null)"
    try:
        shown = data.decode("utf-8")
        printable = all(c.isprintable() or c in "\t\r\n" for c in shown)
    except UnicodeDecodeError:
        printable = False
    if not printable:
        shown = "0x" + data[: width // 2].hex()
        return shown + ("…" if len(data) > width // 2 else "")
    shown = " ".join(shown.split())
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def header_values(headers: Iterable[Header] | None, name: str) -> list[bytes | None]:
    return [v for k, v in headers or () if k == name]


def last_header(headers: Iterable[Header] | None, name: str) -> str | None:
    """The last value of a header as text (a record may carry a name twice: the newest wins)."""
    values = header_values(headers, name)
    return text(values[-1]) if values else None


def is_dead_letter_header(name: str) -> bool:
    return name.startswith(ERRORS_PREFIX) or name in (SINK_HEADER, REPLAYED_FROM)


def replay_headers(headers: Iterable[Header] | None, dlq_topic: str, partition: int,
                   offset: int) -> list[Header]:
    """The original record's headers: without what the dead-lettering added (and without an
    earlier replay's mark), with ``pssync.replayed-from`` naming this dead letter."""
    kept = [(k, v) for k, v in headers or () if not is_dead_letter_header(k)]
    return [*kept, (REPLAYED_FROM, f"{dlq_topic}:{partition}:{offset}".encode())]


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    timestamp: dt.datetime | None
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()

    def header(self, name: str) -> str | None:
        return last_header(self.headers, name)

    @property
    def position(self) -> tuple[int, int]:
        return self.partition, self.offset

    @property
    def original_topic(self) -> str | None:
        return self.header(ORIGINAL_TOPIC)

    @property
    def original_partition(self) -> int | None:
        return _int(self.header(ORIGINAL_PARTITION))

    @property
    def original_offset(self) -> int | None:
        return _int(self.header(ORIGINAL_OFFSET))

    @property
    def sink(self) -> str | None:
        return self.header(SINK_HEADER)

    @property
    def reason(self) -> str | None:
        return self.header(ERROR_MESSAGE)

    @property
    def error_class(self) -> str | None:
        return self.header(ERROR_CLASS)

    @property
    def schema_id(self) -> int | None:
        """The id registered for the subject the record was to be written with, when it got that far."""
        return _int(self.header(SCHEMA_ID))

    @property
    def replayed_from(self) -> str | None:
        return self.header(REPLAYED_FROM)

    @property
    def origin(self) -> str:
        """Where it came from, for people: ``topic[partition]@offset``, or what the writer said
        (the capture names the table and binlog position instead)."""
        topic = self.original_topic
        if topic is not None and self.original_partition is not None and self.original_offset is not None:
            return f"{topic}[{self.original_partition}]@{self.original_offset}"
        if topic is not None:
            return topic
        table = self.header(TABLE)
        if table is not None:
            position = self.header(POSITION)
            return f"table {table}" + (f" at {position}" if position else "")
        return "?"

    def as_dict(self, width: int = 200, show: Callable[[bytes | None, int], str] | None = None) -> dict[str, Any]:
        """For people and scripts; ``show`` renders the value (e.g. Avro decoded through the
        registry, :func:`pssync.schemas.codec.Codec.show`), by default :func:`preview`."""
        return {
            "topic": self.topic, "partition": self.partition, "offset": self.offset,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "original_topic": self.original_topic, "original_partition": self.original_partition,
            "original_offset": self.original_offset, "sink": self.sink, "error_class": self.error_class,
            "reason": self.reason, "replayed_from": self.replayed_from,
            "schema_subject": self.header(SCHEMA_SUBJECT), "schema_id": self.schema_id,
            "key": None if self.key is None else preview(self.key, width),
            "value_preview": (show or preview)(self.value, width),
            "value_bytes": None if self.value is None else len(self.value),
            "headers": {k: text(v) for k, v in self.headers},
        }


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
