"""The sinks' state in MySQL: sync log, applied effects, consumed offsets and the echo marker.

* ``pssync_sync_log``: one row per attempt (what, direction, outcome, error, payload hash, time,
  the Kafka record it came from). The evidence; queried by ``pssync sink log``.
* ``pssync_sync_effect``: one row per effect, primary key (resource, external_id, operation,
  source_event_id). A command whose key is there has already acted: it is logged as a duplicate
  and not applied again.
* ``pssync_sink_offset``: the next Kafka offset per (sink, topic, partition), written in the same
  transaction as the effects it covers. Sinks seek there on start.
* ``pssync_echo``: each shop-sink transaction first bumps its row; the binlog capture recognises
  the transaction by it and tags its events as the sink's own (see cdc/capture.py).

Everything here takes an open connection inside the caller's transaction; nothing commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import pymysql

from pssync.schemas.commands import IdempotencyKey

Direction = Literal["to_erp", "to_shop"]
Outcome = Literal["applied", "duplicate", "skipped", "retry", "dead_letter"]

DDL = (
    """CREATE TABLE IF NOT EXISTS pssync_sync_log (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      sink VARCHAR(64) NOT NULL,
      direction ENUM('to_erp','to_shop') NOT NULL,
      resource VARCHAR(32) NOT NULL,
      external_id VARCHAR(128) NOT NULL,
      operation VARCHAR(32) NOT NULL,
      source_event_id VARCHAR(255) NOT NULL,
      command_id VARCHAR(64) NOT NULL,
      outcome ENUM('applied','duplicate','skipped','retry','dead_letter') NOT NULL,
      error TEXT NULL,
      detail TEXT NULL,
      payload_hash CHAR(64) NOT NULL,
      kafka_topic VARCHAR(249) NULL,
      kafka_partition INT NULL,
      kafka_offset BIGINT NULL,
      attempted_at DATETIME(6) NOT NULL,
      finished_at DATETIME(6) NOT NULL,
      KEY by_record (resource, external_id, attempted_at),
      KEY by_time (attempted_at),
      KEY by_command (command_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS pssync_sync_effect (
      resource VARCHAR(32) NOT NULL,
      external_id VARCHAR(128) NOT NULL,
      operation VARCHAR(32) NOT NULL,
      source_event_id VARCHAR(255) NOT NULL,
      command_id VARCHAR(64) NOT NULL,
      result VARCHAR(255) NULL,
      applied_at DATETIME(6) NOT NULL,
      PRIMARY KEY (resource, external_id, operation, source_event_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS pssync_sink_offset (
      sink VARCHAR(64) NOT NULL,
      topic VARCHAR(249) NOT NULL,
      kafka_partition INT NOT NULL,
      next_offset BIGINT NOT NULL,
      updated_at DATETIME(6) NOT NULL,
      PRIMARY KEY (sink, topic, kafka_partition)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
)
ECHO_DDL = """CREATE TABLE IF NOT EXISTS `{table}` (
      sink VARCHAR(64) NOT NULL PRIMARY KEY,
      batches BIGINT UNSIGNED NOT NULL,
      updated_at DATETIME(6) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

Connection = pymysql.connections.Connection


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def ensure_tables(conn: Connection, echo_table: str = "pssync_echo") -> None:
    with conn.cursor() as cur:
        for statement in DDL:
            cur.execute(statement)
        cur.execute(ECHO_DDL.format(table=echo_table))


@dataclass(frozen=True)
class Attempt:
    sink: str
    direction: Direction
    key: IdempotencyKey
    command_id: str
    payload_hash: str
    attempted_at: dt.datetime
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


def log_attempt(conn: Connection, attempt: Attempt, outcome: Outcome, error: str | None = None,
                detail: str | None = None) -> int:
    k = attempt.key
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO pssync_sync_log (sink, direction, resource, external_id, operation, "
            "source_event_id, command_id, outcome, error, detail, payload_hash, kafka_topic, "
            "kafka_partition, kafka_offset, attempted_at, finished_at) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (attempt.sink, attempt.direction, k.resource, k.external_id[:128], k.operation,
             k.source_event_id[:255], attempt.command_id, outcome, error, detail, attempt.payload_hash,
             attempt.topic, attempt.partition, attempt.offset, _naive(attempt.attempted_at), _naive(now())))
        return cur.lastrowid


def applied_effect(conn: Connection, key: IdempotencyKey, lock: bool = False) -> str | None:
    """The recorded result of the effect with this key ('' when it had none), or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT result FROM pssync_sync_effect WHERE resource=%s AND external_id=%s "
                    "AND operation=%s AND source_event_id=%s" + (" FOR UPDATE" if lock else ""),
                    (key.resource, key.external_id[:128], key.operation, key.source_event_id[:255]))
        row = cur.fetchone()
    if row is None:
        return None
    return (row["result"] if isinstance(row, dict) else row[0]) or ""


def record_effect(conn: Connection, key: IdempotencyKey, command_id: str, result: str | None) -> None:
    """Fails with a duplicate-key error if the effect is already recorded: the caller's
    transaction must then roll back (someone else applied it concurrently)."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO pssync_sync_effect (resource, external_id, operation, source_event_id, "
                    "command_id, result, applied_at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    (key.resource, key.external_id[:128], key.operation, key.source_event_id[:255],
                     command_id, result, _naive(now())))


def stored_offsets(conn: Connection, sink: str, topic: str) -> dict[int, int]:
    with conn.cursor() as cur:
        cur.execute("SELECT kafka_partition, next_offset FROM pssync_sink_offset WHERE sink=%s AND topic=%s",
                    (sink, topic))
        rows = cur.fetchall()
    return {int(_get(r, "kafka_partition", 0)): int(_get(r, "next_offset", 1)) for r in rows}


def store_offsets(conn: Connection, sink: str, offsets: dict[tuple[str, int], int]) -> None:
    """``offsets``: (topic, partition) -> next offset to read."""
    if not offsets:
        return
    stamp = _naive(now())
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO pssync_sink_offset (sink, topic, kafka_partition, next_offset, updated_at) "
            "VALUES (%s,%s,%s,%s,%s) ON DUPLICATE KEY UPDATE next_offset=VALUES(next_offset), "
            "updated_at=VALUES(updated_at)",
            [(sink, topic, partition, offset, stamp) for (topic, partition), offset in offsets.items()])


def mark_echo(conn: Connection, sink: str, table: str = "pssync_echo") -> None:
    """Must be the transaction's first write: the capture tags the events that follow it."""
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO `{table}` (sink, batches, updated_at) VALUES (%s, 1, %s) "
                    "ON DUPLICATE KEY UPDATE batches=batches+1, updated_at=VALUES(updated_at)",
                    (sink, _naive(now())))


def history(conn: Connection, *, resource: str | None = None, external_id: str | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None,
            outcome: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Sync-log rows, newest first: "what did we send for SKU X, and when?"."""
    where, args = [], []
    for column, value in (("resource", resource), ("external_id", external_id), ("outcome", outcome)):
        if value is not None:
            where.append(f"{column}=%s")
            args.append(value)
    if since is not None:
        where.append("attempted_at >= %s")
        args.append(_naive(since))
    if until is not None:
        where.append("attempted_at < %s")
        args.append(_naive(until))
    sql = ("SELECT id, sink, direction, resource, external_id, operation, source_event_id, command_id, "
           "outcome, error, detail, payload_hash, kafka_topic, kafka_partition, kafka_offset, "
           "attempted_at, finished_at FROM pssync_sync_log"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT %s")
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, (*args, limit))
        return list(cur.fetchall())


def _get(row: Any, name: str, index: int) -> Any:
    return row[name] if isinstance(row, dict) else row[index]
