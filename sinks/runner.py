"""The loop every sink runs: consume commands, apply them, record effects and offsets together.

For each batch, in ONE MySQL transaction on the state database: (the echo marker first, for sinks
that write the shop database), then per command: skip it if its idempotency key is already in
``pssync_sync_effect``, else apply it, record the effect and a sync-log row; finally the next
offsets. On start the consumer is positioned at the offsets stored in that database, not at the
group's Kafka offsets (which are only committed afterwards, for lag monitoring). So a crash
anywhere repeats at most an uncommitted batch, whose effects were rolled back with it (local SQL),
or are idempotent on the remote side (ERP create-by-reference, absolute PATCH), which sinks with
remote effects make likely by committing after every command (``Applier.remote``).

A command the applier calls ``exclusive`` (the shop sink's stock and order-state commands, which
lock stock rows that checkouts write) gets a transaction of its own: a checkout never waits behind
a whole batch, and when InnoDB has to break a deadlock it rolls back the sink's small transaction,
not the checkout (it picks the transaction with fewer changed rows and locks).

Bad records and permanent failures go to the sinks' dead-letter topic with the reason in
headers and the original key/value; transient failures roll the batch back and retry it with
capped exponential backoff (never sooner than Retry-After) until it succeeds or the sink stops.
A deadlock (1213) or a lock wait timeout (1205) is such a transient failure: the sink's session
waits at most ``LOCK_WAIT_TIMEOUT_S`` for a row, then rolls back and tries again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pymysql
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from pssync.bus.kafka import ensure_topics, idempotent_producer, member_id, raise_if_fatal, read_committed_consumer
from pssync.settings import Settings
from pssync.sinks import synclog
from pssync.errors import ConfigError, PermanentError, TransientError
from pssync.retry import RetryPolicy
from pssync.schemas.dead_letters import error_headers
from pssync.sinks.errors import Skipped, TransientFailure
from pssync.schemas.commands import BadCommand, IdempotencyKey, payload_hash
from pssync.errors import PssyncError

log = logging.getLogger(__name__)

# innodb_lock_wait_timeout of a sink's session (the server's default is 50 s): a sink that waits
# for a row the shop holds gives up soon and retries, instead of keeping its own locks, which the
# shop's requests would queue behind
LOCK_WAIT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Decoded:
    key: IdempotencyKey
    command_id: str
    command: Any


class Applier(Protocol):
    name: str                   # the sink's identity: offsets, sync log, consumer group
    direction: synclog.Direction
    topics: list[str]
    remote: bool                # effects outside the state database: commit after each command
    marks_echo: bool            # writes the shop database: bump the echo marker first

    def decode(self, value: bytes | None, where: str) -> Decoded: ...

    def apply(self, conn: pymysql.connections.Connection, command: Any) -> str | None:
        """Apply one command inside ``conn``'s open transaction; return a short result (an ERP id,
        the value written). Raise Skipped, PermanentFailure or TransientFailure."""
        ...

    def before_commit(self) -> None:
        """Flush whatever must be durable before the batch commits (e.g. acknowledgements)."""
        ...

    # optional: ``exclusive(command) -> bool``, True for a command that must commit in a
    # transaction of its own (it locks rows the shop's own requests write)

    def close(self) -> None: ...


@dataclass
class Counters:
    applied: int = 0
    duplicate: int = 0
    skipped: int = 0
    dead_letter: int = 0
    retries: int = 0
    batches: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


class SinkRunner:
    def __init__(self, settings: Settings, applier: Applier,
                 connect: Callable[[], pymysql.connections.Connection],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.applier = applier
        self._connect = connect
        self._sleep = sleep
        self.counters = Counters()
        # retried until it succeeds or the sink stops: the policy gives the pauses, not the bound
        self._backoff = RetryPolicy(base_delay=0.2, max_delay=settings.sinks.retry_max_s)
        self._conn: pymysql.connections.Connection | None = None
        self._dlq = idempotent_producer(settings.kafka)
        self._dlq_errors: list[str] = []    # delivery failures: flush() alone does not report them

    # ---- connections --------------------------------------------------------------------------
    @property
    def conn(self) -> pymysql.connections.Connection:
        if self._conn is None or not self._conn.open:
            self._conn = self._connect()
            with self._conn.cursor() as cur:
                cur.execute(f"SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S}")
            self._conn.autocommit(False)
        return self._conn

    def _reset_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                pass
        self._conn = None

    def prepare(self) -> None:
        conn = self._connect()
        try:
            synclog.ensure_tables(conn, self.settings.sinks.echo_table)
            conn.commit()
        finally:
            conn.close()
        ensure_topics(self.settings.kafka, {t: {} for t in [*self.applier.topics,
                                                             self.settings.sinks.dead_letter_topic]})

    # ---- the loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Follow the topics from the stored offsets until ``stop`` is set."""
        self.prepare()
        group = f"pssync-sink-{self.applier.name}"
        consumer = read_committed_consumer(self.settings.kafka, group,
                                           static_member=member_id(group, self.settings.sinks.instance_id))
        consumer.subscribe(self.applier.topics, on_assign=self._on_assign)
        try:
            while not stop.is_set():
                messages = self._poll(consumer)
                if messages:
                    self.process(messages, stop, record_offsets=True)
                    self._commit_group_offsets(consumer, messages)
        finally:
            consumer.close()
            self._dlq.flush(10)
            self._reset_conn()

    def run_range(self, topic: str, partition: int, start: int, end: int, stop: threading.Event) -> int:
        """Apply the records [start, end) of one partition again without touching the stored
        offsets: effects already recorded are logged as duplicates, others are applied."""
        self.prepare()
        consumer = read_committed_consumer(self.settings.kafka, f"pssync-rerun-{self.applier.name}")
        consumer.assign([TopicPartition(topic, partition, start)])
        seen = 0
        try:
            idle_since = time.monotonic()
            while not stop.is_set():
                batch = [m for m in self._poll(consumer) if m.offset() < end]
                if batch:
                    idle_since = time.monotonic()
                    self.process(batch, stop, record_offsets=False)
                    seen += len(batch)
                    if batch[-1].offset() >= end - 1:
                        break
                elif time.monotonic() - idle_since > 10:
                    break     # nothing more committed in the window
        finally:
            consumer.close()
            self._dlq.flush(10)
            self._reset_conn()
        return seen

    def _poll(self, consumer: Consumer) -> list[Message]:
        sinks = self.settings.sinks
        messages = consumer.consume(sinks.batch_max_commands, timeout=sinks.batch_max_ms / 1000)
        good = []
        for msg in messages:
            err = msg.error()
            if err is None:
                good.append(msg)
            elif err.code() != KafkaError._PARTITION_EOF:
                raise_if_fatal(err, f"pssync-sink-{self.applier.name}")
                log.warning("sink %s: consumer error %s", self.applier.name, err)
        return good

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        conn = self._connect()
        try:
            stored: dict[tuple[str, int], int] = {}
            for topic in {p.topic for p in partitions}:
                for partition, offset in synclog.stored_offsets(conn, self.applier.name, topic).items():
                    stored[(topic, partition)] = offset
        finally:
            conn.close()
        for p in partitions:
            p.offset = stored.get((p.topic, p.partition), OFFSET_BEGINNING)
        log.info("sink %s: starting at %s", self.applier.name,
                 ", ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions))
        consumer.assign(partitions)

    def _commit_group_offsets(self, consumer: Consumer, messages: list[Message]) -> None:
        try:
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in _next_offsets(messages).items()],
                            asynchronous=True)
        except Exception as exc:  # informational only: the truth is in the database
            log.debug("group offset commit failed: %s", exc)

    # ---- one batch ------------------------------------------------------------------------------
    def process(self, messages: list[Message], stop: threading.Event | None = None,
                record_offsets: bool = True) -> None:
        groups: Iterable[list[Message]] = ([m] for m in messages) if self.applier.remote else self._groups(messages)
        for group in groups:
            attempt = 0
            while True:
                try:
                    self._transaction(group, record_offsets)
                    self.counters.batches += 1
                    break
                except (TransientError, pymysql.err.OperationalError, pymysql.err.InterfaceError,
                        pymysql.err.IntegrityError) as exc:
                    self._reset_conn()
                    attempt += 1
                    self.counters.retries += 1
                    pause = self._backoff.delay(attempt, exc)
                    log.warning("sink %s: batch of %d failed (%s); retry %d in %.2fs", self.applier.name,
                                len(group), exc, attempt, pause)
                    self._log_retry(group, str(exc))
                    if stop is not None and stop.wait(pause):
                        raise SinkStopped() from exc
                    if stop is None:
                        self._sleep(pause)

    def _groups(self, messages: list[Message]) -> list[list[Message]]:
        """The batch in transactions, in order: runs of ordinary commands together, each exclusive
        command alone."""
        groups: list[list[Message]] = []
        run: list[Message] = []
        for msg in messages:
            if self._exclusive(msg):
                groups += [run, [msg]] if run else [[msg]]
                run = []
            else:
                run.append(msg)
        return groups + [run] if run else groups

    def _exclusive(self, msg: Message) -> bool:
        exclusive = getattr(self.applier, "exclusive", None)
        if exclusive is None:
            return False
        try:
            decoded = self.applier.decode(msg.value(), f"{msg.topic()}[{msg.partition()}]@{msg.offset()}")
        except Exception:   # a bad record, a registry away: the transaction decodes it again and says so
            return False
        return bool(exclusive(decoded.command))

    def _transaction(self, group: list[Message], record_offsets: bool) -> None:
        conn = self.conn
        conn.begin()
        self._dlq_errors.clear()
        try:
            if self.applier.marks_echo:
                synclog.mark_echo(conn, self.applier.name, self.settings.sinks.echo_table)
            outcomes = [self._one(conn, msg) for msg in group]
            if record_offsets:
                synclog.store_offsets(conn, self.applier.name, _next_offsets(group))
            self.applier.before_commit()
            if self._dlq.flush(30) > 0:
                raise TransientFailure("dead-letter topic did not acknowledge within 30s")
            if self._dlq_errors:
                raise TransientFailure(f"dead-letter topic refused a record: {self._dlq_errors[0]}")
            conn.commit()
        except BaseException:
            try:
                conn.rollback()
            except Exception:
                pass
            raise
        for outcome in outcomes:
            self.counters.by_outcome[outcome] = self.counters.by_outcome.get(outcome, 0) + 1
            setattr(self.counters, outcome, getattr(self.counters, outcome) + 1)

    def _one(self, conn: pymysql.connections.Connection, msg: Message) -> str:
        where = f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"
        value = msg.value()
        started = synclog.now()
        digest = payload_hash(value or b"")
        try:
            decoded = self.applier.decode(value, where)
        except BadCommand as exc:
            key = IdempotencyKey(resource="unknown", external_id=where, operation="decode",
                                 source_event_id=where)
            self._dead_letter(msg, exc.reason, "BadCommand")
            synclog.log_attempt(conn, self._attempt(key, "", digest, started, msg), "dead_letter", exc.reason)
            log.error("sink %s: %s dead-lettered: %s", self.applier.name, where, exc.reason)
            return "dead_letter"
        attempt = self._attempt(decoded.key, decoded.command_id, digest, started, msg)
        if synclog.applied_effect(conn, decoded.key) is not None:
            synclog.log_attempt(conn, attempt, "duplicate")
            return "duplicate"
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT pssync_command")
        try:
            result = self.applier.apply(conn, decoded.command)
        except Skipped as exc:
            self._rollback_command(conn)
            synclog.record_effect(conn, decoded.key, decoded.command_id, f"skipped: {exc.reason}"[:255])
            synclog.log_attempt(conn, attempt, "skipped", detail=exc.reason)
            return "skipped"
        except ConfigError:
            raise            # wrong credentials, say: no command can succeed; stop the sink, dead-letter none
        except PermanentError as exc:
            self._rollback_command(conn)
            reason = getattr(exc, "reason", None) or str(exc)
            self._dead_letter(msg, reason, "PermanentFailure")
            synclog.log_attempt(conn, attempt, "dead_letter", reason)
            log.error("sink %s: %s (%s %s) dead-lettered: %s", self.applier.name, where,
                      decoded.key.resource, decoded.key.external_id, reason)
            return "dead_letter"
        synclog.record_effect(conn, decoded.key, decoded.command_id, (result or "")[:255])
        synclog.log_attempt(conn, attempt, "applied", detail=result)
        return "applied"

    @staticmethod
    def _rollback_command(conn: pymysql.connections.Connection) -> None:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT pssync_command")

    def _attempt(self, key: IdempotencyKey, command_id: str, digest: str, started: Any,
                 msg: Message) -> synclog.Attempt:
        return synclog.Attempt(self.applier.name, self.applier.direction, key, command_id, digest, started,
                               msg.topic(), msg.partition(), msg.offset())

    def _dead_letter(self, msg: Message, reason: str, kind: str) -> None:
        self._dlq.produce(self.settings.sinks.dead_letter_topic, key=msg.key(), value=msg.value(),
                          headers=error_headers(reason, error_class=kind, topic=msg.topic(), partition=msg.partition(),
                                                offset=msg.offset(), sink=self.applier.name,
                                                keep=msg.headers() or ()),
                          on_delivery=self._dlq_delivered)

    def _dlq_delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._dlq_errors.append(f"{err.name()}: {err.str()}")

    def _log_retry(self, group: list[Message], error: str) -> None:
        """Transient failures are attempts too; logged outside the rolled-back transaction."""
        try:
            conn = self._connect()
        except Exception:
            return   # the database itself is down: the log line above is all we can keep
        try:
            for msg in group:
                try:
                    decoded = self.applier.decode(msg.value(), f"{msg.topic()}[{msg.partition()}]@{msg.offset()}")
                except BadCommand:
                    continue
                synclog.log_attempt(conn, self._attempt(decoded.key, decoded.command_id,
                                                        payload_hash(msg.value() or b""), synclog.now(), msg),
                                    "retry", error[:2000])
            conn.commit()
        except Exception as exc:
            log.debug("could not log the retry: %s", exc)
        finally:
            conn.close()


class SinkStopped(PssyncError):
    """Stopped while waiting to retry; nothing of the failed batch was committed."""


def _next_offsets(messages: list[Message]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for msg in messages:
        k = (msg.topic(), msg.partition())
        out[k] = max(out.get(k, 0), msg.offset() + 1)
    return out
