"""The capture engine: snapshot, then binlog streaming, each batch of change events committed to
Kafka in one transaction together with the source offset that ends it."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from prometheus_client import Counter, Gauge, Histogram
from tqdm import tqdm

from pssync.bus.kafka import (Fenced, broker_watch, ensure_topics, is_fatal_fencing, message_limits,
                             transactional_producer)
from pssync.bus.avro import AvroEncoder
from pssync.bus.registry import IncompatibleSchema, Registry
from pssync.schemas.codec import ALERT, Codec, RegistryStore
from pssync.schemas.dead_letters import error_headers
from pssync.schemas.headers import NEW_KEY_HEADER, OLD_KEY_HEADER, ORIGIN_HEADER
from pssync.cdc.avro_schema import TRANSACTION_KEY_SCHEMA, TRANSACTION_VALUE_SCHEMA
from pssync.cdc import database, identity
from pssync.cdc.binlog import BinlogReader, Idle, RowChange, Rows, Transaction, parse_position
from pssync.cdc.columns import TableDef, with_key
from pssync.cdc.avro_schema import TypeModes
from pssync.cdc.errors import CaptureError, EventTooLarge, SchemaConflict, held_message
from pssync.cdc.events import SourceInfo, TableCodec, topic_for
from pssync.cdc.offsets import AdhocSnapshot, OffsetStore, Replay, SourceOffset, TableHold
from pssync.cdc.row_values import BadValue
from pssync.cdc.signals import SignalReader, signals_topic
from pssync.cdc.snapshot import ConsistentSnapshot, Rate, SnapshotPosition, SnapshotProgress, covers, progress_line
from pssync.jsontext import plain
from pssync.settings import Settings

log = logging.getLogger(__name__)

EVENTS = Counter("pssync_cdc_events_total", "Change events written to Kafka", ["table", "op"])
DEAD_LETTERS = Counter("pssync_cdc_dead_letters_total", "Rows sent to the dead-letter topic", ["table"])
COMMITS = Histogram("pssync_cdc_commit_seconds", "Kafka transaction commit time")
LAG = Gauge("pssync_cdc_source_lag_seconds", "Now minus commit time of the last captured transaction")
HELD = Gauge("pssync_cdc_held_tables", "Captured tables held on a schema conflict (pssync cdc status)")


# when only tables outside the include list change, the position still advances; committing it
# alone (no events) at most this often keeps idle Kafka transactions rare
OFFSET_ONLY_INTERVAL_S = 1.0
# a commit that has not gone through by then is waited for again, the wait said once per outage
COMMIT_WAIT_S = 5.0
# what Kafka's record and batch framing adds to a record's key, value and headers, rounded up
RECORD_OVERHEAD = 1024


def transaction_topic(settings: Settings) -> str:
    return f"{settings.capture.topic_prefix}.transaction"


def dead_letter_topic(settings: Settings) -> str:
    return f"{settings.capture.topic_prefix}.cdc.dead-letter"




class Capture:
    def __init__(self, settings: Settings, registry: Registry | None = None,
                 on_commit: Callable[[SourceOffset, int], None] | None = None) -> None:
        self.settings = settings
        self.cap = settings.capture
        self.registry = registry or Registry(settings.registry, attempts=self.cap.retry_attempts)
        self.offsets = OffsetStore(settings.kafka, self.cap.offsets_topic, self.cap.name)
        self.tables = [database.prefixed(settings.mysql, t) for t in self.cap.tables] + list(self.cap.extra_tables)
        # configured event keys (capture.key_columns), by full table name
        self.key_columns = {(t if t in self.cap.extra_tables else database.prefixed(settings.mysql, t)): tuple(cols)
                            for t, cols in self.cap.key_columns.items()}
        # the shop sink's marker table: read from the binlog, never emitted (see _emit_rows)
        self.echo_table = settings.sinks.echo_table
        self.on_commit = on_commit
        self._codecs: dict[TableDef, TableCodec] = {}
        self._catalogue_conn: Any = None
        self._txn_encoders: tuple[AvroEncoder, AvroEncoder] | None = None
        self._producer: Producer | None = None
        self._limits: dict[str, int] = {}          # event topic -> max.message.bytes at the broker
        self.committed: SourceOffset | None = None
        self.lock = identity.CaptureLock(settings.mysql, self.cap.name)
        self.kafka_watch = broker_watch(settings.kafka)
        # schema-conflict holds (see _hold), as in the offset being built; the position before the
        # transaction being read (where a hold resumes from); a resolved hold being read again
        self._holds: dict[str, TableHold] = {}
        self._holds_changed = False
        self._resume: SourceOffset | None = None
        self._replay: Replay | None = None
        self._contracts: Codec | None = None

    # ---- setup -------------------------------------------------------------------------------
    def prepare(self) -> SourceOffset | None:
        try:
            return self._prepare()
        except BaseException:
            self.lock.release()
            raise

    def _prepare(self) -> SourceOffset | None:
        conn = database.connect(self.settings.mysql)
        try:
            database.check_server(conn)
            present = database.existing_tables(conn, self.settings.mysql.database)
            missing = [t for t in self.tables if t not in present]
            if missing:
                raise CaptureError(
                    f"captured tables not found in database {self.settings.mysql.database!r}: "
                    f"{', '.join(missing)} (check capture.tables and mysql.table_prefix)")
            unknown = [t for t in self.key_columns if t not in self.tables]
            if unknown:
                raise CaptureError(f"capture.key_columns names tables that are not captured: {', '.join(unknown)}")
            keyless = [t for t in self.tables if not self.table_def(conn, t).primary_key]
            if keyless:
                raise CaptureError(
                    f"tables without a primary key cannot be keyed: {', '.join(keyless)}. Fix: give their "
                    "event key columns in capture.key_columns (like Debezium's message.key.columns), e.g. "
                    f"key_columns: {{{keyless[0].removeprefix(self.settings.mysql.table_prefix)}: [col_a, col_b]}} "
                    "(columns that identify a row), or leave the tables out of capture.tables")
        finally:
            conn.close()
        # before anything reaches Kafka or the binlog: a second capture must not fence or displace
        # the one running
        self.lock.acquire()
        self.registry.check()
        db = self.settings.mysql.database
        topics: dict[str, dict[str, str]] = {
            self.cap.offsets_topic: {"cleanup.policy": "compact"},
            dead_letter_topic(self.settings): {},
            signals_topic(self.settings): {},
        }
        if self.cap.transaction_metadata:
            topics[transaction_topic(self.settings)] = {}
        size = {"max.message.bytes": str(self.cap.max_event_bytes)}
        event_topics = [topic_for(self.cap.topic_prefix, db, table) for table in self.tables]
        topics.update({topic: dict(size) for topic in event_topics})
        created = ensure_topics(self.settings.kafka, topics, timeout=self.settings.kafka.connect_timeout)
        existing = [t for t in event_topics if t not in created]
        self._limits = {t: self.cap.max_event_bytes for t in created}
        if existing:    # created before (by an earlier run, or by someone at the broker's default)
            self._limits.update(message_limits(self.settings.kafka, existing, at_least=self.cap.max_event_bytes,
                                               timeout=self.settings.kafka.connect_timeout))
        self._producer = transactional_producer(self.settings.kafka, f"pssync-cdc-{self.cap.name}",
                                                init_timeout=self.settings.kafka.connect_timeout,
                                                **{"message.max.bytes": self.cap.max_event_bytes + RECORD_OVERHEAD})
        self.committed = self.offsets.load()
        return self.committed

    def table_def(self, conn: Any, table: str) -> TableDef:
        """The table as the catalogue has it, keyed as configured (capture.key_columns)."""
        return with_key(database.table_def(conn, self.settings.mysql.database, table), self.key_columns.get(table))

    def _catalogue_table(self, table: str) -> TableDef | None:
        """The table as information_schema has it now (for the column defaults the binlog lacks);
        None when it is gone or the catalogue cannot be read (the events then carry no defaults)."""
        try:
            if self._catalogue_conn is None:
                self._catalogue_conn = database.connect(self.settings.mysql)
            return database.table_def(self._catalogue_conn, self.settings.mysql.database, table)
        except Exception as exc:   # a dropped table, a lost connection: defaults are metadata only
            log.warning("no column defaults for %s from the catalogue: %s", table, exc)
            if self._catalogue_conn is not None:
                self._catalogue_conn.close()
                self._catalogue_conn = None
            return None

    def codec(self, table: TableDef) -> TableCodec:
        """The table version's codec, its schemas registered; raises IncompatibleSchema when the
        registry refuses them, except while a hold resolved with ``--mode force`` is read again."""
        found = self._codecs.get(table)
        if found is None:
            registry: Any = self.registry
            if self._replay is not None and table.table in self._replay.force:
                registry = _Forcing(self.registry)
            found = TableCodec(table, self.cap.topic_prefix, registry, TypeModes.of(self.cap))
            self._codecs[table] = found
        return found

    # ---- Kafka transaction helpers -------------------------------------------------------------
    def _produce(self, topic: str, key: bytes, value: bytes | None,
                 headers: list[tuple[str, bytes]] | None = None) -> None:
        assert self._producer is not None
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers)
                return
            except BufferError:        # the local queue is full: Kafka is slow or away
                self._producer.poll(0.05)
                self.kafka_watch.waiting(len(self._producer))

    def _commit(self, offset: SourceOffset, events: int) -> None:
        assert self._producer is not None
        topic, key, value = self.offsets.record(offset)
        self._produce(topic, key, value)
        started = time.monotonic()
        while True:
            try:
                self._producer.commit_transaction(COMMIT_WAIT_S)
                break
            except KafkaException as exc:      # timed out: the commit goes on in the background
                if exc.args[0].code() != KafkaError._TIMED_OUT or exc.args[0].txn_requires_abort():
                    raise
                self._producer.poll(0)         # serve error_cb: is the broker away?
                self.kafka_watch.waiting(events + len(self._producer))
        self.kafka_watch.reachable()
        COMMITS.observe(time.monotonic() - started)
        self.committed = offset
        if offset.ts_ms:
            LAG.set(max(0.0, time.time() - offset.ts_ms / 1000))
        if self.on_commit:
            self.on_commit(offset, events)

    def _dead_letter(self, table: TableDef, row: dict[str, Any], reason: Exception,
                     source: SourceInfo, codec: TableCodec | None, subject: str | None = None) -> None:
        """Park a row that cannot be encoded, with the subject and schema id its event was to be
        written with (those registered for the table's topic; none when it failed before)."""
        DEAD_LETTERS.labels(table.table).inc()
        subject = f"{codec.topic}-value" if codec is not None else subject
        schema_id = codec.value_encoder.schema_id if codec is not None else None
        log.error("row of %s.%s at %s:%s (GTID %s) sent to dead-letter topic (subject %s, schema id %s): %s",
                  table.database, table.table, source.file, source.pos, source.gtid, subject, schema_id, reason)
        payload = json.dumps({"table": f"{table.database}.{table.table}", "row": row,
                              "source": source.as_record(), "subject": subject, "schema_id": schema_id},
                             default=plain).encode()
        column = getattr(reason, "column", None)
        value = getattr(reason, "value", None)
        self._produce(dead_letter_topic(self.settings), key=f"{table.table}".encode(), value=payload,
                      headers=error_headers(str(reason), error_class=type(reason).__name__, table=table.table,
                                            gtid=source.gtid or None, position=f"{source.file}:{source.pos}",
                                            subject=subject, schema_id=schema_id, column=column,
                                            value=None if column is None else _as_text(value)))

    def _emit(self, table: TableDef, op: str, before: dict | None, after: dict | None,
              source: SourceInfo, transaction: dict | None,
              headers: list[tuple[str, bytes]] | None = None) -> int:
        codec = self.codec(table)
        try:
            key, value = codec.encode(op, before, after, source, transaction)
        except (BadValue, ValueError, TypeError) as exc:
            self._dead_letter(table, after or before or {}, exc, source, codec)
            return 0
        size = len(key) + len(value) + sum(len(k) + len(v) for k, v in headers or ()) + RECORD_OVERHEAD
        limit = min(self._limits.get(codec.topic, self.cap.max_event_bytes), self.cap.max_event_bytes)
        if size > limit:
            row = after or before or {}
            self._dead_letter(table, {c: row.get(c) for c in table.primary_key},
                              EventTooLarge(f"{op} event of {size} bytes is larger than topic {codec.topic} "
                                            f"accepts ({limit} bytes: capture.max_event_bytes and the "
                                            "topic's max.message.bytes); the row is left out of this dead "
                                            "letter, only its key is here. Fix: raise capture.max_event_bytes "
                                            "(and the broker's message.max.bytes if it is lower), then re-emit "
                                            "the table with `pssync cdc snapshot --table`"),
                              source, codec)
            return 0
        self._produce(codec.topic, key, value, headers)
        if op == "d":
            self._produce(codec.topic, key, None)  # tombstone, so compaction can drop the key
        EVENTS.labels(table.table, op).inc()
        return 1

    # ---- snapshot ----------------------------------------------------------------------------
    def snapshot(self, progress: bool = True, resume: bool = True,
                 stop: threading.Event | None = None) -> SourceOffset:
        """Read the tables in primary-key chunks and write them as op 'r', each chunk in its own
        Kafka transaction with the offset recording the snapshot's progress (see
        :class:`SnapshotProgress`); the last one also marks it complete, and streaming then starts
        from the position the snapshot was read at.

        In one run every chunk is read in one ``START TRANSACTION WITH CONSISTENT SNAPSHOT``, so the
        snapshot is the tables as of one binlog position. A run that resumes a snapshot cut short
        (``resume``; a crash, a stop) opens a new read view, first streams the binlog from the
        stored position up to that view's (the changes made since, committed like any), then reads
        the remaining chunks in it; streaming goes on from there. Per key, events stay in commit
        order (see README, "Snapshots"). ``stop`` set: returns after the chunk being written, the
        snapshot incomplete (the next run resumes it)."""
        assert self._producer is not None
        db = self.settings.mysql.database
        limit = self.cap.snapshot_chunk_rows
        earlier = self.committed
        resumed = earlier if (resume and earlier is not None and not earlier.snapshot_completed
                              and earlier.snapshot is not None and not earlier.snapshot.finished) else None
        catalogue = database.connect(self.settings.mysql)
        try:
            with ConsistentSnapshot(self.settings.mysql) as snap:
                read_at = snap.position
                assert read_at is not None
                if resumed is not None:
                    assert resumed.snapshot is not None
                    plan = replace(resumed.snapshot, resumed=resumed.snapshot.resumed + 1)
                    log.info("resuming the snapshot at %s after key %s (%d rows in %d chunks already in "
                             "Kafka); first streaming the binlog from %s:%s (GTID %s) up to the new read "
                             "view at %s:%s (GTID %s)", plan.table, plan.after_key, plan.rows, plan.chunks,
                             resumed.file, resumed.pos, resumed.gtid, read_at.file, read_at.pos, read_at.gtid)
                    if not covers(resumed.gtid, read_at.gtid):
                        self.stream(resumed, stop, until=read_at)
                    if stop is not None and stop.is_set():
                        return self.committed or resumed
                    start = self.committed or resumed
                    assert start.snapshot is not None
                else:
                    plan = SnapshotProgress.start(self.tables)
                    start = SourceOffset(gtid=read_at.gtid, file=read_at.file, pos=read_at.pos,
                                         snapshot_completed=False, tables=tuple(self.tables))
                    log.info("snapshot of %s at %s:%s (GTID %s), %d rows per chunk", ", ".join(self.tables),
                             read_at.file, read_at.pos, read_at.gtid, limit)
                if earlier is not None:  # keep signal progress across a re-snapshot
                    start = replace(start, signal_offset=earlier.signal_offset)
                defs = {name: self.table_def(catalogue, name) for name in plan.tables}
                offset, plan = self._snapshot_chunks(snap, plan, start, defs, read_at, limit, progress, db, stop)
        finally:
            catalogue.close()
        if plan.finished:
            log.info("snapshot committed: %d rows in %d chunks", plan.rows, plan.chunks)
        else:
            log.info("snapshot stopped on request after %d rows in %d chunks; the next run resumes it",
                     plan.rows, plan.chunks)
        return offset

    def _snapshot_chunks(self, snap: ConsistentSnapshot, plan: SnapshotProgress, start: SourceOffset,
                         defs: dict[str, TableDef], read_at: Any, limit: int,
                         progress: bool, db: str, stop: threading.Event | None = None,
                         ) -> tuple[SourceOffset, SnapshotProgress]:
        assert self._producer is not None
        rate = Rate()
        bars: dict[str, Any] = {}
        offset = start
        failures = 0
        try:
            while not plan.finished and not (stop is not None and stop.is_set()):
                name = plan.table
                assert name is not None
                table = defs[name]
                if name not in bars:   # a table begins (or resumes): its rows left, in this read view
                    left = snap.count(name, table.primary_key, plan.after_key)
                    plan = plan.with_totals({name: left + plan.rows_of(name)})
                    bars[name] = tqdm(total=plan.total_of(name), initial=plan.rows_of(name), unit="row",
                                      desc=f"snapshot {name}", disable=not progress, leave=True)
                rows = list(snap.rows(name, table.primary_key, plan.after_key, limit + 1))
                more = len(rows) > limit
                rows = rows[:limit]
                # the table's last row is the snapshot's last when no later table has rows
                later = 0 if more else int(any(snap.count(t, limit=1) for t in plan.tables[1:]))
                last_key = tuple(rows[-1][c] for c in table.primary_key) if rows else None
                following = plan.after_chunk(len(rows), last_key, more)
                if not rows and not following.finished:
                    plan = following         # an empty table: nothing to commit for it
                    bars.pop(name).close()
                    continue
                self.lock.keepalive()
                now_ms = int(time.time() * 1000)
                chunk_offset = replace(start, ts_ms=now_ms, snapshot_completed=following.finished,
                                       snapshot=None if following.finished else following)
                try:
                    self._producer.begin_transaction()
                    for row, mark in zip(rows, plan.markers(len(rows), more, later)):
                        source = SourceInfo(self.cap.topic_prefix, db, name, now_ms, 0, None,
                                            read_at.file, read_at.pos, 0, mark)
                        self._emit(table, "r", None, row, source, None)
                    self._commit(chunk_offset, len(rows))
                except KafkaException as exc:
                    failures += 1
                    self._abort_chunk(exc, failures, name)
                    continue                 # the same chunk again, in a new transaction
                failures = 0
                offset = chunk_offset
                plan = following
                rate.add(len(rows))
                bars[name].update(len(rows))
                if not more:
                    bars.pop(name).close()
                if rate.due() or plan.finished:
                    log.info("snapshot: %s", progress_line(plan, rate.per_second()))
        finally:
            for bar in bars.values():
                bar.close()
        return offset, plan

    def _abort_chunk(self, exc: KafkaException, failures: int, table: str) -> None:
        """A snapshot chunk's Kafka transaction failed: abort it so the chunk can be written again,
        unless this instance was fenced or the error is not one a retry can cure."""
        assert self._producer is not None
        err = exc.args[0]
        if is_fatal_fencing(exc):
            raise Fenced(f"another capture instance named {self.cap.name!r} took over ({err.str()}); "
                         "this one stops without writing") from exc
        if not (err.txn_requires_abort() or err.retriable()) or failures >= self.cap.retry_attempts:
            raise exc
        log.warning("Kafka transaction of a snapshot chunk of %s aborted (%s); writing it again (attempt %d)",
                    table, err.str(), failures + 1)
        try:
            self._producer.abort_transaction(30)
        except KafkaException as again:
            raise exc from again

    # ---- streaming ---------------------------------------------------------------------------
    def start_position(self) -> SourceOffset:
        committed = self.committed
        mode = self.cap.snapshot_mode
        if committed is not None and committed.snapshot_completed:
            return self._with_added_tables(committed)
        if mode == "never":
            conn = database.connect(self.settings.mysql)
            head = database.binlog_head(conn)
            conn.close()
            log.warning("snapshot_mode=never: streaming from the current binlog head %s", head.gtid)
            return SourceOffset(head.gtid, head.file, head.pos, snapshot_completed=True)
        return self.snapshot()

    def _with_added_tables(self, committed: SourceOffset) -> SourceOffset:
        """Tables added to the include list since the last run get their existing rows through an
        on-demand snapshot while streaming goes on (offsets written before the table list was
        recorded count as covering no table: every table is read once more, nothing is missed)."""
        added = [t for t in self.tables if t not in committed.tables]
        if not added or committed.adhoc is not None:
            return replace(committed, tables=tuple(self.tables)) if not added else committed
        log.info("tables added to the capture since its last run: %s; snapshotting them while streaming",
                 ", ".join(added))
        return replace(committed, tables=tuple(self.tables),
                       adhoc=AdhocSnapshot(tuple(added), None, "tables-added"))

    def stream(self, start: SourceOffset, stop: threading.Event | None = None,
               until: SnapshotPosition | None = None) -> SourceOffset | None:
        """Stream from ``start`` until ``stop``; with ``until``, only up to that position (a
        resumed snapshot catching up to its new read view), taking no signals. Returns None, or the
        (committed) offset to stream from again when a resolved hold has to be read again from its
        position."""
        assert self._producer is not None
        mysql = self.settings.mysql
        reader = BinlogReader(database.binlog_connection_settings(mysql), mysql.server_id,
                              mysql.database, [*self.tables, self.echo_table], start.gtid,
                              self.cap.heartbeat_seconds, report_host=identity.report_host(self.cap.name),
                              key_columns=self.key_columns, catalogue=self._catalogue_table)
        signals = SignalReader(self.settings, start.signal_offset)
        log.info("streaming from GTID %r (%s:%s)", start.gtid, start.file, start.pos)
        producer = self._producer
        state = start                 # the offset to commit next: position + signal/adhoc progress
        dirty = False
        in_txn = False
        chunk: _Chunk | None = None
        batch_events = 0
        batch_started = last_commit = time.monotonic()
        max_events, max_s = self.cap.batch_max_events, self.cap.batch_max_ms / 1000
        progress = TxnProgress(skip_gtid=start.partial_gtid, skip_rows=start.partial_rows)
        rewind: SourceOffset | None = None
        self._holds = {h.table: h for h in start.held}
        self._holds_changed, self._replay, self._resume = False, start.replay, start
        self._codecs.clear()          # a forced registration applies to this run's replay only
        HELD.set(len(self._holds))
        if self._holds:
            log.warning("tables held on a schema conflict, their events not emitted until resolved "
                        "(pssync cdc status): %s", ", ".join(self._holds))
        if self._replay is not None:
            log.warning("reading the binlog again for %s (resolved), up to %s", ", ".join(self._replay.tables),
                        self._replay.until)
        try:
            for item in reader:
                boundary = not isinstance(item, Rows)
                if isinstance(item, Rows):
                    if not in_txn:
                        producer.begin_transaction()
                        in_txn, batch_started = True, time.monotonic()
                    self._resume = state
                    batch_events += self._emit_rows(item, progress)
                    state, dirty = replace(state, partial_gtid=item.gtid, partial_rows=progress.order), True
                    if self._holds_changed:
                        state, self._holds_changed = replace(state, held=tuple(self._holds.values())), False
                elif isinstance(item, Transaction):
                    if progress.gtid == item.gtid and progress.order:
                        if not in_txn:
                            producer.begin_transaction()
                            in_txn, batch_started = True, time.monotonic()
                        if not self._replaying(item.gtid):    # its END is in Kafka already
                            self._transaction_marker("END", item.gtid, item.ts, progress)
                        progress.start("")
                    state = replace(state, gtid=item.position, file=item.file, pos=item.pos,
                                    ts_ms=item.ts * 1000, server_id=item.server_id,
                                    partial_gtid="", partial_rows=0)
                    if self._replay is not None and _covers(state.gtid, self._replay.until):
                        log.warning("%s caught up at %s: resolved, streaming on with the other tables",
                                    ", ".join(self._replay.tables), state.gtid)
                        state, self._replay = replace(state, replay=None), None
                        self._codecs.clear()
                    dirty = True
                # inside a source transaction only size closes a batch; between them, time too
                due = batch_events >= max_events or boundary and (
                    isinstance(item, Idle) or time.monotonic() - batch_started >= max_s)

                if boundary:
                    self.lock.keepalive()
                    # on-demand snapshots: take signals, read a chunk, emit it once the stream has
                    # reached the chunk's own binlog position (so every key stays in order)
                    if state.adhoc is None and state.replay is None and due and until is None:
                        signal = signals.poll()
                        if signal is not None:
                            state, dirty = self._accept_signal(state, signal), True
                            if state.replay is not None:
                                # a hold resolved: commit the way back to its position, then read
                                # the binlog again from there (stream() is started over)
                                if not in_txn:
                                    producer.begin_transaction()
                                self._commit(state, batch_events)
                                in_txn, rewind = False, state
                                break
                    if state.adhoc is not None and chunk is None:
                        chunk = self._read_chunk(state.adhoc)
                    if chunk is not None and _reached(item.file, item.pos, chunk.file, chunk.pos):
                        if not in_txn:
                            producer.begin_transaction()
                            in_txn, batch_started = True, time.monotonic()
                        self._resume = state
                        batch_events += self._emit_chunk(chunk)
                        state, chunk, dirty = replace(state, adhoc=chunk.next_state), None, True

                caught_up = until is not None and boundary and _caught_up(state, item, until)
                offset_only = not in_txn
                if dirty and (due or caught_up) and not (
                        offset_only and not caught_up and time.monotonic() - last_commit < OFFSET_ONLY_INTERVAL_S):
                    if not in_txn:
                        producer.begin_transaction()
                    self._commit(state, batch_events)
                    in_txn, dirty, batch_events = False, False, 0
                    batch_started = last_commit = time.monotonic()
                if (caught_up or stop is not None and stop.is_set()) and not in_txn:
                    break
        finally:
            reader.close()
            signals.close()
            if in_txn:
                try:
                    producer.abort_transaction(10)
                except KafkaException as exc:
                    log.debug("abort after failure also failed: %s", exc)
        return rewind

    def _accept_signal(self, state: SourceOffset, signal) -> SourceOffset:
        state = replace(state, signal_offset=signal.offset + 1)
        if signal.kind == "resolve":
            return self._accept_resolve(state, signal)
        if signal.kind != "snapshot":
            log.error("ignoring signal %s at offset %d: unknown type %r", signal.id, signal.offset, signal.kind)
            return state
        tables = [self.settings.mysql.table_prefix + t if not t.startswith(self.settings.mysql.table_prefix)
                  else t for t in signal.tables]
        unknown = [t for t in tables if t not in self.tables]
        if unknown or not tables:
            log.error("ignoring snapshot signal %s: tables not captured: %s", signal.id, unknown or "(none)")
            return state
        held = [t for t in tables if t in self._holds]
        if held:
            log.error("ignoring snapshot signal %s: %s held on a schema conflict; resolve first "
                      "(pssync cdc resolve), then ask for the snapshot again", signal.id, ", ".join(held))
            return state
        log.info("on-demand snapshot %s of %s started", signal.id, ", ".join(tables))
        return replace(state, adhoc=AdhocSnapshot(tuple(tables), None, signal.id))

    def _accept_resolve(self, state: SourceOffset, signal) -> SourceOffset:
        """Resume a held table: the offset goes back to the hold's position with a Replay that
        reads the binlog again from there, emitting only the held table's events until the
        position reached now (the other tables' events up to it are in Kafka already); from
        there on every table streams. Mode ``force`` registers the refused schema versions met on
        the way under compatibility NONE (the subject's rule is put back at once); ``retry`` does
        not (the operator changed the registry so it accepts them). Nothing is lost: every event
        of the table from the refused one on is read again and emitted in binlog order."""
        prefix = self.settings.mysql.table_prefix
        table = next(iter(signal.tables), "")
        table = table if table.startswith(prefix) else prefix + table
        hold = self._holds.get(table)
        if hold is None:
            log.error("ignoring resolve signal %s: %s is not held", signal.id, table)
            return state
        if signal.mode not in RESOLVE_MODES:
            log.error("ignoring resolve signal %s for %s: unknown mode %r (%s)", signal.id, table, signal.mode,
                      " or ".join(RESOLVE_MODES))
            return state
        del self._holds[table]
        HELD.set(len(self._holds))
        log.warning("resolving %s (%s, signal %s): reading the binlog again from %s for it, up to %s",
                    table, signal.mode, signal.id, hold.gtid, state.gtid)
        return replace(state, gtid=hold.gtid, file=hold.file, pos=hold.pos, partial_gtid="", partial_rows=0,
                       held=tuple(self._holds.values()),
                       replay=Replay((table,), state.gtid, (table,) if signal.mode == "force" else (), signal.id))

    def _replaying(self, gtid: str) -> bool:
        """Whether transaction ``gtid`` is one a replay reads again (only the held tables' events
        of it are emitted; its other events and its transaction markers are in Kafka already)."""
        return self._replay is not None and _covers(self._replay.until, gtid)

    def _hold(self, table: TableDef, exc: IncompatibleSchema, source: SourceInfo, row: dict[str, Any]) -> None:
        """Hold a table whose new schema the registry refused: its events are no longer emitted,
        the position to read it again from (before the transaction now read) goes into the offset
        with the reason, committed with the rest; one dead letter (the row, the reason and the fix
        in its headers) and one alert (kind ``schema_conflict`` on streams.alerts_topic) say so,
        in the same Kafka transaction. The other tables stream on."""
        if table.table in self._holds:
            return
        resume = self._resume
        assert resume is not None
        hold = TableHold(table.table, resume.gtid, resume.file, resume.pos, source.gtid or "",
                         exc.subject, str(exc), int(time.time() * 1000))
        self._holds[table.table] = hold
        self._holds_changed = True
        HELD.set(len(self._holds))
        message = held_message(hold, table.database, self.settings.mysql.table_prefix)
        log.error("%s", message)
        self._dead_letter(table, row, SchemaConflict(message), source, None, subject=exc.subject or None)
        self._alert(f"table:{table.database}.{table.table}", message)

    def _alert(self, key: str, reason: str) -> None:
        topic = self.settings.streams.alerts_topic
        if self._contracts is None:
            ensure_topics(self.settings.kafka, {topic: {}}, timeout=self.settings.kafka.connect_timeout)
            self._contracts = Codec(RegistryStore(self.registry))
        value = self._contracts.encode_record(topic, ALERT, {
            "kind": "schema_conflict", "reason": reason, "at": dt.datetime.now(dt.timezone.utc)})
        self._produce(topic, key=key.encode(), value=value)

    def _read_chunk(self, adhoc: AdhocSnapshot) -> "_Chunk":
        name = adhoc.tables[0]
        catalogue = database.connect(self.settings.mysql)
        try:
            table = self.table_def(catalogue, name)
        finally:
            catalogue.close()
        limit = self.cap.snapshot_chunk_rows
        with ConsistentSnapshot(self.settings.mysql) as snap:
            rows = list(snap.rows(name, table.primary_key, adhoc.after_key, limit))
            pos = snap.position
        assert pos is not None
        if len(rows) < limit:
            log.info("on-demand snapshot %s: %s done", adhoc.signal_id, name)
            rest = adhoc.tables[1:]
            following = AdhocSnapshot(rest, None, adhoc.signal_id) if rest else None
        else:
            last = rows[-1]
            following = replace(adhoc, after_key=tuple(last[c] for c in table.primary_key))
        return _Chunk(table, rows, pos.file, pos.pos, following)

    def _emit_chunk(self, chunk: "_Chunk") -> int:
        db = self.settings.mysql.database
        now_ms = int(time.time() * 1000)
        emitted = 0
        for row in chunk.rows:
            if chunk.table.table in self._holds:
                break
            source = SourceInfo(self.cap.topic_prefix, db, chunk.table.table, now_ms, 0, None,
                                chunk.file, chunk.pos, 0, "incremental")
            try:
                emitted += self._emit(chunk.table, "r", None, row, source, None)
            except IncompatibleSchema as exc:     # its binlog events are held from here on; the
                self._hold(chunk.table, exc, source, row)   # snapshot must be asked for again
        return emitted

    def _transaction_marker(self, status: str, gtid: str, ts: int,
                            progress: "TxnProgress | None" = None) -> None:
        """Debezium's transaction metadata: BEGIN, then END with the event count per table."""
        if not self.cap.transaction_metadata:
            return
        if self._txn_encoders is None:
            topic = transaction_topic(self.settings)
            self._txn_encoders = (
                AvroEncoder(self.registry.register(f"{topic}-key", TRANSACTION_KEY_SCHEMA), TRANSACTION_KEY_SCHEMA),
                AvroEncoder(self.registry.register(f"{topic}-value", TRANSACTION_VALUE_SCHEMA), TRANSACTION_VALUE_SCHEMA))
        key_enc, value_enc = self._txn_encoders
        db = self.settings.mysql.database
        value = {"status": status, "id": gtid, "ts_ms": ts * 1000, "event_count": None,
                 "data_collections": None}
        if progress is not None:
            value["event_count"] = progress.order
            value["data_collections"] = [{"data_collection": f"{db}.{table}", "event_count": n}
                                         for table, n in sorted((progress.per_table or {}).items())]
        self._produce(transaction_topic(self.settings), key_enc.encode({"id": gtid}), value_enc.encode(value))

    def _emit_rows(self, rows: Rows, progress: "TxnProgress") -> int:
        """Emit the row changes of one rows event, numbered within their source transaction;
        rows already in Kafka before a restart (``progress.skip_*``) are counted, not re-sent."""
        replaying = self._replaying(rows.gtid)
        if rows.gtid != progress.gtid:
            progress.start(rows.gtid)
            # BEGIN went out with the first rows, before a restart (or before a hold was resolved)
            if not progress.skipping(1) and not replaying:
                self._transaction_marker("BEGIN", rows.gtid, rows.ts)
        emitted = 0
        db = self.settings.mysql.database
        for change in rows.changes:
            name = change.table.table
            if name == self.echo_table:
                # Echo suppression: a shop sink writes this marker first in each of its transactions,
                # so every change that follows in the transaction is the sink's own write; it is
                # tagged with the sink's name (header pssync.origin) for processors to recognise.
                progress.origin = str((change.after or change.before or {}).get("sink") or "sink")
                continue
            origin = [(ORIGIN_HEADER, progress.origin.encode())] if progress.origin else []
            source = SourceInfo(self.cap.topic_prefix, db, name, rows.ts * 1000, rows.server_id,
                                rows.gtid, change.file, change.pos, change.row)
            # a held table's events, and in a replay the other tables' (in Kafka already), are
            # counted (the numbering stays that of the transaction) but not emitted
            events = None
            if name not in self._holds and (not replaying or name in self._replay.tables):
                try:
                    events = self._events_of(change)
                except IncompatibleSchema as exc:
                    self._hold(change.table, exc, source, change.after or change.before or {})
            if events is None:
                for _ in range(_event_count(change)):
                    progress.next(name)
                continue
            for op, before, after, headers in events:
                order, per_table = progress.next(name)
                if progress.skipping(order) or name in self._holds:
                    continue
                try:
                    emitted += self._emit(change.table, op, before, after, source,
                                          {"id": rows.gtid, "total_order": order,
                                           "data_collection_order": per_table},
                                          [*origin, *headers] or None)
                except IncompatibleSchema as exc:
                    self._hold(change.table, exc, source, after or before or {})
        return emitted

    def _events_of(self, change: RowChange) -> list[tuple[str, dict | None, dict | None, list[tuple[str, bytes]]]]:
        """The events of one row change. An update of a primary-key column is, as Debezium has it,
        a delete of the old key (then its tombstone) and a create of the new one, each naming the
        other key in a header (``__debezium.newkey`` / ``__debezium.oldkey``, the key as JSON):
        a consumer that keeps rows by key would otherwise keep the old row for ever."""
        if _event_count(change) == 1:
            return [(change.op, change.before, change.after, [])]
        convert = self.codec(change.table).convert
        old, new = (json.dumps(convert.key(convert(row)), default=str, sort_keys=True).encode()
                    for row in (change.before, change.after))
        return [("d", change.before, None, [(NEW_KEY_HEADER, new)]),
                ("c", None, change.after, [(OLD_KEY_HEADER, old)])]

    def run(self, stop: threading.Event | None = None) -> None:
        self.prepare()
        self.stream_resilient(self.start_position(), stop)

    def stream_resilient(self, start: SourceOffset, stop: threading.Event | None = None) -> None:
        """Stream; after an abortable Kafka error resume from the last committed offset. How the
        run ends (stopped on request, or failed and why) is recorded for ``pssync cdc status``."""
        self.record_state("running")
        try:
            self._stream_resilient(start, stop)
        except Fenced:
            raise                      # the instance that fenced this one owns the state now
        except Exception as exc:
            self.record_state("failed", f"{type(exc).__name__}: {exc}")
            raise
        self.record_state("stopped")

    def record_state(self, state: str, reason: str = "") -> None:
        """Write the run state beside the offset, in a transaction of its own (best effort: a
        producer that is fenced or cut off from Kafka cannot, and the failure is logged anyway)."""
        if self._producer is None:
            return
        try:
            self._producer.begin_transaction()
            self._produce(*self.offsets.state_record(state, reason))
            self._producer.commit_transaction(10)
        except KafkaException as exc:
            log.warning("could not record the capture state %r: %s", state, exc.args[0].str())
            try:
                self._producer.abort_transaction(5)
            except KafkaException:
                pass

    def _stream_resilient(self, start: SourceOffset, stop: threading.Event | None = None) -> None:
        while True:
            try:
                rewind = self.stream(start, stop)
                if rewind is None:
                    return
                start = rewind             # a hold resolved: read again from its position
            except KafkaException as exc:
                err = exc.args[0]
                if is_fatal_fencing(exc):
                    raise Fenced(f"another capture instance named {self.cap.name!r} took over "
                                 f"({err.str()}); this one stops without writing") from exc
                if not err.txn_requires_abort() and not err.retriable():
                    raise
                log.warning("Kafka transaction aborted (%s); resuming from %s", err.str(),
                            self.committed.gtid if self.committed else start.gtid)
                start = self.committed or start

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(10)
            except KafkaException as exc:  # a fenced producer cannot flush; nothing is owed
                log.debug("producer flush on close: %s", exc)
            self._producer = None
        if self._catalogue_conn is not None:
            self._catalogue_conn.close()
            self._catalogue_conn = None
        self.lock.release()


@dataclass
class TxnProgress:
    """Where the capture is inside the current source transaction."""
    skip_gtid: str = ""
    skip_rows: int = 0
    gtid: str = ""
    order: int = 0
    per_table: dict[str, int] | None = None
    origin: str = ""             # set when the transaction carries a sink's echo marker

    def start(self, gtid: str) -> None:
        self.gtid, self.order, self.per_table, self.origin = gtid, 0, {}, ""

    def next(self, table: str) -> tuple[int, int]:
        assert self.per_table is not None
        self.order += 1
        self.per_table[table] = self.per_table.get(table, 0) + 1
        return self.order, self.per_table[table]

    def skipping(self, order: int) -> bool:
        if self.skip_gtid and self.gtid == self.skip_gtid:
            if order <= self.skip_rows:
                return True
            self.skip_gtid = ""      # past the rows committed before the restart
        return False


RESOLVE_MODES = ("force", "retry")


class _Forcing:
    """The registry as a codec sees it while a hold resolved with --mode force is read again:
    refused versions are registered anyway (Registry.register(force=True))."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        return self.registry.register(subject, schema, force=True)


def _event_count(change: RowChange) -> int:
    """Events a row change becomes: two for an update of a key column (see _events_of), else one."""
    key = change.table.primary_key
    if change.op != "u" or not key or all(change.before.get(c) == change.after.get(c) for c in key):
        return 1
    return 2


def _covers(position: str, gtid: str) -> bool:
    """Whether GTID position ``position`` includes ``gtid`` (a transaction, or every transaction
    of another position): per domain, a sequence number at most the position's."""
    have = parse_position(position)
    for domain, one in parse_position(gtid).items():
        if domain not in have or int(one.rsplit("-", 1)[1]) > int(have[domain].rsplit("-", 1)[1]):
            return False
    return True


@dataclass
class _Chunk:
    table: TableDef
    rows: list[dict[str, Any]]
    file: str                     # binlog position the rows were read at
    pos: int
    next_state: AdhocSnapshot | None


def _as_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(plain(value))


def _caught_up(state: SourceOffset, item: Any, until: SnapshotPosition) -> bool:
    """Has the stream written every transaction up to ``until``: its GTIDs (each domain's), or,
    idle at the head, its binlog position."""
    if isinstance(item, Idle):
        return _reached(item.file, item.pos, until.file, until.pos)
    return covers(state.gtid, until.gtid)


def _binlog_index(file: str) -> int:
    return int(file.rsplit(".", 1)[-1]) if file and file.rsplit(".", 1)[-1].isdigit() else 0


def _reached(file: str, pos: int, target_file: str, target_pos: int) -> bool:
    return (_binlog_index(file), pos) >= (_binlog_index(target_file), target_pos)
