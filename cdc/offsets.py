"""Source offsets, kept apart from the events: where in the binlog the last Kafka transaction
ended. Written to a compacted topic inside the same Kafka transaction as the events it covers."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace

from pssync.bus.kafka import read_compacted
from pssync.cdc.snapshot import SnapshotProgress
from pssync.jsontext import plain
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
class TableHold:
    """A captured table whose events are held back: the registry refused its new schema (a
    type-changing ALTER). Its events from transaction ``at_gtid`` on are not emitted while the
    other tables stream; ``gtid``/``file``/``pos`` is where to read the binlog again from for it
    (the position after the last transaction before ``at_gtid``) once it is resolved."""
    table: str
    gtid: str
    file: str
    pos: int
    at_gtid: str = ""         # the transaction whose event was refused
    subject: str = ""         # the registry subject that refused it
    reason: str = ""
    ts_ms: int = 0            # when it was held


@dataclass(frozen=True)
class Replay:
    """A resolved hold being caught up: the binlog is read again from the hold's position; events
    of transactions up to ``until`` (the position reached when it was resolved, everything of the
    other tables up to it being in Kafka already) are emitted for ``tables`` only; ``force``: the
    tables whose refused schemas are registered anyway (``pssync cdc resolve --mode force``)."""
    tables: tuple[str, ...]
    until: str
    force: tuple[str, ...] = ()
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
    partial_gtid: str = ""    # a large transaction split across Kafka transactions: its GTID,
    partial_rows: int = 0     # and how many of its row changes are already in Kafka
    adhoc: "AdhocSnapshot | None" = None
    tables: tuple[str, ...] = ()   # tables whose rows are in Kafka (snapshotted, then streamed)
    held: tuple[TableHold, ...] = ()   # tables held on a schema conflict (see TableHold)
    replay: "Replay | None" = None     # a resolved hold being read again (see Replay)
    # the initial snapshot under way (snapshot_completed False): gtid/file/pos are then the
    # position it is read at, which streaming starts from once it is done
    snapshot: SnapshotProgress | None = None

    def to_bytes(self) -> bytes:
        data = asdict(self)
        data["snapshot"] = self.snapshot.to_json() if self.snapshot is not None else None
        return json.dumps(data, sort_keys=True, default=plain).encode()

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
        if "tables" in data:
            data["tables"] = tuple(data["tables"])
        if "held" in data:
            fields = set(TableHold.__dataclass_fields__)
            data["held"] = tuple(TableHold(**{k: v for k, v in h.items() if k in fields})
                                 for h in data["held"] or ())
        if data.get("replay"):
            r = data["replay"]
            data["replay"] = Replay(tuple(r["tables"]), r["until"], tuple(r.get("force", ())),
                                    r.get("signal_id", ""))
        if data.get("snapshot"):
            data["snapshot"] = SnapshotProgress.from_json(data["snapshot"])
        return cls(**data)

    def advanced(self, **changes: object) -> "SourceOffset":
        return replace(self, **changes)


@dataclass(frozen=True)
class RunState:
    """How the capture's last run went, for ``pssync cdc status``: ``running``, ``stopped`` (on
    request) or ``failed`` with the reason. Kept beside the offset, under its own key."""
    state: str
    reason: str = ""
    ts_ms: int = 0

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "RunState":
        data = json.loads(raw)
        return cls(str(data.get("state", "")), str(data.get("reason", "")), int(data.get("ts_ms", 0)))


class OffsetStore:
    def __init__(self, kafka: KafkaSettings, topic: str, name: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self.key = name.encode()
        self.state_key = f"{name}#state".encode()

    def load(self, timeout: float = 30.0) -> SourceOffset | None:
        """Last committed offset for this connector (read_committed, whole topic)."""
        return self.load_with_state(timeout)[0]

    def load_with_state(self, timeout: float = 30.0) -> tuple[SourceOffset | None, RunState | None]:
        records = read_compacted(self.kafka, self.topic, timeout)
        raw, state = records.get(self.key), records.get(self.state_key)
        return (SourceOffset.from_bytes(raw) if raw else None,
                RunState.from_bytes(state) if state else None)

    def record(self, offset: SourceOffset) -> tuple[str, bytes, bytes]:
        return self.topic, self.key, offset.to_bytes()

    def state_record(self, state: str, reason: str = "") -> tuple[str, bytes, bytes]:
        return self.topic, self.state_key, RunState(state, reason, int(time.time() * 1000)).to_bytes()
