"""ERP change capture: poll each change feed of an adapter and write the changes to the erp.*
topics. A feed's cursor is stored in a compacted topic inside the same Kafka transaction as the
events it covers, so a restart neither loses nor repeats a change.

Feeds are read by keyset on (timestamp, id), and the last ``overlap_s`` seconds are read again
on every poll: a row committed late with an older timestamp is still captured, while versions
already emitted in that window (kept in the cursor) are not emitted twice."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import KafkaException, Producer
from prometheus_client import Counter

from pssync.bus.kafka import Fenced, ensure_topics, is_fatal_fencing, read_compacted, transactional_producer
from pssync.bus.registry import Registry
from pssync.erp.base import Change, ChangeKind, Cursor, ErpAdapter
from pssync.erp.errors import TransientErpError
from pssync.erp.topics import TOPICS, ErpEncoders, SnapshotPart, topic_name
from pssync.settings import Settings

log = logging.getLogger(__name__)
ERP_EVENTS = Counter("pssync_erp_events_total", "ERP change events written to Kafka", ["erp", "kind"])


def advance(cursor: Cursor, emitted: list[Change], overlap: dt.timedelta) -> Cursor:
    """The cursor after ``emitted``: keyset position of the newest change, and the versions
    still inside the overlap window."""
    ts, row_id = cursor.ts, cursor.id
    for change in emitted:
        if ts is None or (change.ts, change.row_id) > (ts, row_id):
            ts, row_id = change.ts, change.row_id
    if ts is None:
        return cursor
    horizon = ts - overlap
    recent = {v: t for v, t in cursor.recent}
    recent.update({c.version: c.ts.isoformat() for c in emitted})
    kept = tuple(sorted(((v, t) for v, t in recent.items() if dt.datetime.fromisoformat(t) >= horizon),
                        key=lambda item: item[1]))
    return Cursor(ts, row_id, kept)


def select_new(cursor: Cursor, overlap_rows: list[Change], fresh: list[Change]) -> list[Change]:
    """Late rows from the overlap window not emitted before, then the fresh page; each version once."""
    seen = {v for v, _ in cursor.recent}
    out: list[Change] = []
    for change in [*overlap_rows, *fresh]:
        if change.version in seen:
            continue
        seen.add(change.version)
        out.append(change)
    return out


class ErpPoller:
    def __init__(self, settings: Settings, adapter: ErpAdapter, registry: Registry | None = None,
                 on_commit: Callable[[ChangeKind, Cursor, int], None] | None = None) -> None:
        self.settings = settings
        self.cfg = settings.erp
        self.adapter = adapter
        self.registry = registry or Registry(settings.registry)
        self.overlap = dt.timedelta(seconds=self.cfg.overlap_s)
        self.cursors: dict[ChangeKind, Cursor] = {}
        self.on_commit = on_commit
        self._producer: Producer | None = None
        self._encoders: ErpEncoders | None = None

    def _state_key(self, kind: str) -> bytes:
        return f"{self.cfg.name}:{kind}".encode()

    def prepare(self) -> None:
        topics = {topic_name(self.cfg.topic_prefix, k): {} for k in TOPICS}
        topics[self.cfg.offsets_topic] = {"cleanup.policy": "compact"}
        ensure_topics(self.settings.kafka, topics, timeout=self.settings.kafka.connect_timeout)
        self._encoders = ErpEncoders(self.registry, self.cfg.topic_prefix)
        self._producer = transactional_producer(self.settings.kafka, f"pssync-erp-{self.cfg.name}",
                                                init_timeout=self.settings.kafka.connect_timeout)
        stored = read_compacted(self.settings.kafka, self.cfg.offsets_topic)
        for kind in self.cfg.kinds:
            raw = stored.get(self._state_key(kind))
            self.cursors[kind] = Cursor.from_json(json.loads(raw)) if raw else Cursor()

    def _commit(self, kind: ChangeKind, changes: list[Change], cursor: Cursor,
                snapshot: tuple[str, int | None] | None = None) -> None:
        assert self._producer is not None and self._encoders is not None
        producer = self._producer
        try:
            producer.begin_transaction()
            for position, change in enumerate(changes):
                part = SnapshotPart(snapshot[0], position, snapshot[1]) if snapshot else None
                topic, key, value = self._encoders.encode(change, self.adapter.name, part)
                producer.produce(topic, key=key, value=value)
            if not snapshot:
                producer.produce(self.cfg.offsets_topic, key=self._state_key(kind),
                                 value=json.dumps(cursor.to_json()).encode())
            producer.commit_transaction()
        except KafkaException as exc:
            if is_fatal_fencing(exc):
                raise Fenced(f"another ERP capture named {self.cfg.name!r} took over") from exc
            try:
                producer.abort_transaction(10)
            except KafkaException:
                pass
            raise
        if not snapshot:
            self.cursors[kind] = cursor
        ERP_EVENTS.labels(self.adapter.name, kind).inc(len(changes))
        if self.on_commit:
            self.on_commit(kind, cursor, len(changes))

    def poll_once(self, kind: ChangeKind) -> int:
        """One page of one feed (plus the overlap re-read); returns how many events were written."""
        cursor = self.cursors.get(kind, Cursor())
        overlap_rows: list[Change] = []
        if cursor.ts is not None and self.overlap:
            since = cursor.ts - self.overlap
            overlap_rows = [c for c in self.adapter.changes(kind, since, "", self.cfg.page_size * 4)
                            if (c.ts, c.row_id) <= (cursor.ts, cursor.id)]
        fresh = self.adapter.changes(kind, cursor.ts, cursor.id, self.cfg.page_size)
        new = select_new(cursor, overlap_rows, fresh)
        next_cursor = advance(cursor, new, self.overlap)
        if new or next_cursor != cursor:
            self._commit(kind, new, next_cursor)
        return len(new)

    def snapshot_stock(self, page_size: int | None = None) -> str:
        """A full stock snapshot in one Kafka transaction: every row says its snapshot id, its
        position and the total, so the processors can treat it as self-correcting."""
        snapshot_id = uuid.uuid4().hex
        levels = []
        page = None
        while True:
            result = self.adapter.stock_snapshot(page, page_size or self.cfg.page_size)
            levels.extend(result.levels)
            page = result.next_page
            if page is None:
                break
        changes = [Change("stock", lvl.sku, lvl, lvl.as_of, lvl.erp_product_id,
                          f"snapshot:{snapshot_id}:{lvl.erp_product_id}") for lvl in levels]
        self._commit("stock", changes, self.cursors.get("stock", Cursor()), (snapshot_id, len(changes)))
        log.info("stock snapshot %s: %d SKUs", snapshot_id, len(changes))
        return snapshot_id

    def run(self, stop: threading.Event | None = None) -> None:
        self.prepare()
        stop = stop or threading.Event()
        failures = 0
        while not stop.is_set():
            busy = False
            try:
                for kind in self.cfg.kinds:
                    busy |= self.poll_once(kind) >= self.cfg.page_size
                failures = 0
            except TransientErpError as exc:
                # the ERP is down or busy beyond the adapter's own retries: nothing was committed
                # for the failed page (the cursor moves with the events), so keep polling later
                failures += 1
                pause = max(exc.retry_after or 0, min(60.0, self.cfg.poll_interval_s * 2 ** min(failures, 6)))
                log.warning("ERP poll failed (%s); polling again in %.0fs", exc, pause)
                stop.wait(pause)
                continue
            if not busy:
                stop.wait(self.cfg.poll_interval_s)

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(10)
            except KafkaException:
                pass
            self._producer = None
        self.adapter.close()
