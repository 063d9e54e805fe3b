"""ERP change capture: poll each change feed of an adapter and write the changes to the erp.*
topics. A feed's cursor is stored in a compacted topic inside the same Kafka transaction as the
events it covers, so a restart neither loses nor repeats a change.

Feeds are read by keyset on (timestamp, id), and the last ``overlap_s`` seconds are read again
on every poll: a row committed late with an older timestamp is still captured, while versions
already emitted in that window (kept in the cursor) are not emitted twice.

A new version of a source row does not always change what the ERP says: a stock move written
again (created, then done) or a second move of the same product in one page gives the level the
topic already carries, a template write that leaves the price alone gives the same price. The
capture writes a change only when its values differ from the last ones it wrote for that key
(``content_digest``: everything but the measurement/change timestamp); the last written digest
of every key is kept in the offsets topic too, in the same transaction, so a restart compares
with what the topic really says. Full stock snapshots always write every level (and become
the values later changes are compared with)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaException, Producer
from prometheus_client import Counter

from pssync.bus.kafka import Fenced, ensure_topics, is_fatal_fencing, read_compacted, transactional_producer
from pssync.bus.registry import Registry
from pssync.erp.base import CHANGE_KINDS, Change, ChangeKind, Cursor, ErpAdapter
from pssync.erp.errors import ErpLoginRefused, PermanentErpError, TransientErpError
from pssync.erp.signals import Progress, Signal, SignalReader, progress_key
from pssync.erp.topics import TOPICS, ErpEncoders, SnapshotPart, content_digest, topic_name
from pssync.retry import RetryPolicy
from pssync.settings import Settings

log = logging.getLogger(__name__)
PRUNE_EVERY = dt.timedelta(hours=1)   # on the feed's clock: how often expired last values are looked for
ERP_EVENTS = Counter("pssync_erp_events_total", "ERP change events written to Kafka", ["erp", "kind"])
ERP_UNCHANGED = Counter("pssync_erp_unchanged_total",
                        "ERP changes not written: their values equal the last ones written for their key",
                        ["erp", "kind"])


@dataclass(frozen=True)
class Emitted:
    """The last values written for one key of one kind: their digest, and the change's timestamp."""
    digest: str
    ts: dt.datetime

    def to_json(self) -> dict[str, str]:
        return {"digest": self.digest, "ts": self.ts.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> "Emitted":
        return cls(data["digest"], dt.datetime.fromisoformat(data["ts"]))


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


def only_changed(emitted: dict[str, Emitted], changes: Iterable[Change]) -> tuple[list[Change], dict[str, Emitted]]:
    """The changes whose values differ from the last ones written for their key (``emitted``, then
    the earlier changes of the same batch), and the entries to record for the ones kept."""
    kept: list[Change] = []
    updates: dict[str, Emitted] = {}
    for change in changes:
        digest = content_digest(change.record)
        last = updates.get(change.key) or emitted.get(change.key)
        if last is not None and last.digest == digest:
            continue
        updates[change.key] = Emitted(digest, change.ts)
        kept.append(change)
    return kept, updates


class ErpPoller:
    def __init__(self, settings: Settings, adapter: ErpAdapter, registry: Registry | None = None,
                 on_commit: Callable[[ChangeKind, Cursor, int], None] | None = None) -> None:
        self.settings = settings
        self.cfg = settings.erp
        self.adapter = adapter
        self.registry = registry or Registry(settings.registry)
        self.overlap = dt.timedelta(seconds=self.cfg.overlap_s)
        self.cursors: dict[ChangeKind, Cursor] = {}
        # per kind, per key: the last values written (see only_changed)
        self.emitted: dict[ChangeKind, dict[str, Emitted]] = {k: {} for k in CHANGE_KINDS}
        self._pruned_at: dict[ChangeKind, dt.datetime] = {}
        self.on_commit = on_commit
        self.cycles = 0        # complete passes over every feed since start (for health and tests)
        # pauses while the ERP is down: the one retry policy, polling goes on until stopped
        self._backoff = RetryPolicy(base_delay=self.cfg.poll_interval_s, max_delay=60.0)
        self._producer: Producer | None = None
        self._encoders: ErpEncoders | None = None
        # signals (erp/signals.py): how far they were read, and the one waiting for the ERP
        self.signals: Progress | None = None
        self._signal_reader: SignalReader | None = None
        self._pending_signal: Signal | None = None

    def _state_key(self, kind: str) -> bytes:
        return f"{self.cfg.name}:{kind}".encode()

    def _emitted_key(self, kind: str, key: str) -> bytes:
        return f"{self.cfg.name}:{kind}:emitted:{key}".encode()

    def prepare(self) -> None:
        topics = {topic_name(self.cfg.topic_prefix, k): {} for k in TOPICS}
        topics[self.cfg.offsets_topic] = {"cleanup.policy": "compact"}
        ensure_topics(self.settings.kafka, topics, timeout=self.settings.kafka.connect_timeout)
        self._encoders = ErpEncoders(self.registry, self.cfg.topic_prefix)
        self._producer = transactional_producer(self.settings.kafka, f"pssync-erp-{self.cfg.name}",
                                                init_timeout=self.settings.kafka.connect_timeout)
        self.restore(read_compacted(self.settings.kafka, self.cfg.offsets_topic))

    def restore(self, stored: dict[bytes, bytes | None]) -> None:
        """Cursors and last written values from the offsets topic's records (key -> last value)."""
        for kind in self.cfg.kinds:
            raw = stored.get(self._state_key(kind))
            self.cursors[kind] = Cursor.from_json(json.loads(raw)) if raw else Cursor()
        self.emitted = {k: {} for k in CHANGE_KINDS}
        prefixes = {k: self._emitted_key(k, "") for k in CHANGE_KINDS}
        for stored_key, raw in stored.items():
            if raw is None:
                continue
            for kind, prefix in prefixes.items():
                if stored_key.startswith(prefix):
                    self.emitted[kind][stored_key[len(prefix):].decode()] = Emitted.from_json(json.loads(raw))
                    break
        raw = stored.get(progress_key(self.cfg))
        self.signals = Progress.from_json(raw) if raw else None

    def _commit(self, kind: ChangeKind, changes: list[Change], cursor: Cursor,
                emitted: dict[str, Emitted], snapshot: tuple[str, int | None] | None = None,
                forget: list[str] | None = None, signals: Progress | None = None) -> None:
        """One transaction: the events, the last written values of their keys, tombstones for the
        keys to ``forget``, (not for a snapshot) the cursor and the progress of the ``signals``
        this commit carries out; the in-memory state follows only once it is committed."""
        assert self._producer is not None and self._encoders is not None
        producer = self._producer
        try:
            producer.begin_transaction()
            for position, change in enumerate(changes):
                part = SnapshotPart(snapshot[0], position, snapshot[1]) if snapshot else None
                topic, key, value = self._encoders.encode(change, self.adapter.name, part)
                producer.produce(topic, key=key, value=value)
            for key, entry in emitted.items():
                producer.produce(self.cfg.offsets_topic, key=self._emitted_key(kind, key),
                                 value=json.dumps(entry.to_json()).encode())
            for key in forget or ():
                producer.produce(self.cfg.offsets_topic, key=self._emitted_key(kind, key), value=None)
            if not snapshot:
                producer.produce(self.cfg.offsets_topic, key=self._state_key(kind),
                                 value=json.dumps(cursor.to_json()).encode())
            if signals is not None:
                producer.produce(self.cfg.offsets_topic, key=progress_key(self.cfg), value=signals.to_json())
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
        if signals is not None:
            self.signals = signals
        for key in forget or ():
            self.emitted[kind].pop(key, None)
        self.emitted[kind].update(emitted)
        ERP_EVENTS.labels(self.adapter.name, kind).inc(len(changes))
        if self.on_commit:
            self.on_commit(kind, cursor, len(changes))

    def poll_once(self, kind: ChangeKind) -> int:
        """One page of one feed (plus the overlap re-read); returns how many new changes it gave,
        written or left out as unchanged (a full page means: poll again at once)."""
        cursor = self.cursors.get(kind, Cursor())
        overlap_rows: list[Change] = []
        if cursor.ts is not None and self.overlap:
            since = cursor.ts - self.overlap
            overlap_rows = [c for c in self.adapter.changes(kind, since, "", self.cfg.page_size * 4)
                            if (c.ts, c.row_id) <= (cursor.ts, cursor.id)]
        fresh = self.adapter.changes(kind, cursor.ts, cursor.id, self.cfg.page_size)
        new = select_new(cursor, overlap_rows, fresh)
        # the cursor moves past every new version, written or not
        next_cursor = advance(cursor, new, self.overlap)
        changed, emitted = only_changed(self.emitted[kind], new)
        prune = self._prune_due(kind, next_cursor.ts)
        forget = [k for k in self._expired(kind, next_cursor.ts) if k not in emitted] if prune else []
        if changed or forget or next_cursor != cursor:
            self._commit(kind, changed, next_cursor, emitted, forget=forget)
        if prune:
            self._pruned_at[kind] = next_cursor.ts
        if len(changed) < len(new):
            ERP_UNCHANGED.labels(self.adapter.name, kind).inc(len(new) - len(changed))
        return len(new)

    def _prune_due(self, kind: ChangeKind, now: dt.datetime | None) -> bool:
        """Expired last values are looked for at most every PRUNE_EVERY of the feed's clock."""
        if now is None or not self.cfg.last_emitted_days:
            return False
        last = self._pruned_at.get(kind)
        return last is None or now - last >= PRUNE_EVERY

    def _expired(self, kind: ChangeKind, now: dt.datetime) -> list[str]:
        """Keys whose last values were written more than erp.last_emitted_days before ``now`` (the
        feed's newest change): forgetting them keeps the state (in memory and in the offsets
        topic) bounded by what changed within that time; such a key may be written once more
        with unchanged values, as before this rule."""
        horizon = now - dt.timedelta(days=self.cfg.last_emitted_days)
        return [key for key, entry in self.emitted[kind].items() if entry.ts < horizon]

    def snapshot_stock(self, page_size: int | None = None, snapshot_id: str | None = None,
                       signal: Signal | None = None) -> str:
        """A full stock snapshot in one Kafka transaction: every row says its snapshot id, its
        position and the total, so the processors can treat it as self-correcting. Asked for by
        a ``signal``, the transaction also records that the signal was carried out."""
        snapshot_id = snapshot_id or uuid.uuid4().hex
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
        # every level is written, even one equal to the last written: a snapshot is what corrects
        # the processors; later changes are compared with what it said
        emitted = {c.key: Emitted(content_digest(c.record), c.ts) for c in changes}
        progress = None if signal is None else Progress(signal.offset + 1, signal.id, snapshot_id, len(changes))
        self._commit("stock", changes, self.cursors.get("stock", Cursor()), emitted, (snapshot_id, len(changes)),
                     signals=progress)
        log.info("stock snapshot %s: %d SKUs", snapshot_id, len(changes))
        return snapshot_id

    # ---- signals ----------------------------------------------------------------------------
    def listen(self, timeout: float | None = None) -> bool:
        """Join the capture's signal group (from then on ``pssync erp snapshot-stock`` hands its
        snapshots to this capture); True once the signals partition is assigned."""
        if self._signal_reader is None:
            start = self.signals.next_offset if self.signals else None
            self._signal_reader = SignalReader(self.settings, start)
        return self._signal_reader.join(self.settings.kafka.connect_timeout if timeout is None else timeout)

    @property
    def listening(self) -> bool:
        return self._signal_reader is not None and self._signal_reader.assigned

    def take_signals(self) -> None:
        """Carry out the signals that came: a stock snapshot in this capture's own transaction.
        One the ERP cannot serve now (down, busy) is kept and tried again on the next cycle."""
        reader = self._signal_reader
        if reader is None:
            return
        while True:
            signal = self._pending_signal or reader.poll()
            if signal is None:
                return
            done = self.signals.next_offset if self.signals else 0
            if signal.offset < done:        # read again after a rebalance: already carried out
                reader.done(signal)
                self._pending_signal = None
                continue
            self._pending_signal = signal
            if signal.kind != "snapshot-stock":
                log.error("ignoring ERP signal %s at offset %d: unknown type %r", signal.id, signal.offset,
                          signal.kind)
                self._record_signal(Progress(signal.offset + 1, signal.id, error=f"unknown type {signal.kind!r}"))
            else:
                log.info("stock snapshot asked for by signal %s", signal.id)
                try:
                    self.snapshot_stock(snapshot_id=signal.id, signal=signal)
                except ErpLoginRefused:
                    raise                    # the capture stops, naming the credentials; the signal waits
                except PermanentErpError as exc:
                    log.error("stock snapshot of signal %s refused by the ERP: %s", signal.id, exc)
                    self._record_signal(Progress(signal.offset + 1, signal.id, error=str(exc)))
            reader.done(signal)
            self._pending_signal = None

    def _record_signal(self, progress: Progress) -> None:
        """A signal passed over: its outcome alone, in one transaction."""
        self._commit("stock", [], self.cursors.get("stock", Cursor()), {}, ("", 0), signals=progress)

    def run(self, stop: threading.Event | None = None) -> None:
        self.adapter.check()         # refused credentials stop the capture before it touches Kafka
        self.prepare()
        self.listen()
        stop = stop or threading.Event()
        failures = 0
        while not stop.is_set():
            busy = False
            try:
                self.take_signals()
                for kind in self.cfg.kinds:
                    busy |= self.poll_once(kind) >= self.cfg.page_size
                failures = 0
                self.cycles += 1
            except TransientErpError as exc:
                # the ERP is down or busy beyond the adapter's own retries: nothing was committed
                # for the failed page (the cursor moves with the events), so keep polling later
                failures += 1
                pause = self._backoff.delay(failures, exc)
                log.warning("ERP poll failed (%s); polling again in %.0fs", exc, pause)
                stop.wait(pause)
                continue
            if not busy:
                stop.wait(self.cfg.poll_interval_s)

    def close(self) -> None:
        if self._signal_reader is not None:
            self._signal_reader.close()
            self._signal_reader = None
        if self._producer is not None:
            try:
                self._producer.flush(10)
            except KafkaException:
                pass
            self._producer = None
        self.adapter.close()
