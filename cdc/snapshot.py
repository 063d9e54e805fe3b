"""Consistent snapshot: rows of each table as of one binlog position, read inside a single
``START TRANSACTION WITH CONSISTENT SNAPSHOT`` whose binlog position MariaDB reports exactly
(``binlog_snapshot_file``/``binlog_snapshot_position``), so no global read lock is needed.

The initial snapshot is written in chunks (``capture.snapshot_chunk_rows`` rows of one table, in
primary-key order, by keyset pagination), each chunk its own Kafka transaction together with the
offset that records how far the snapshot got (:class:`SnapshotProgress`). This module holds the
pure part of that: the progress, the Debezium ``source.snapshot`` marker of each row, and the
rate/progress figures."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from pssync.prestashop.database import connect
from pssync.cdc.errors import CaptureError
from pssync.settings import MySQLSettings


@dataclass(frozen=True)
class SnapshotPosition:
    file: str
    pos: int
    gtid: str


class ConsistentSnapshot:
    def __init__(self, settings: MySQLSettings) -> None:
        self.settings = settings
        self.conn = connect(settings, unbuffered=True)
        self.position: SnapshotPosition | None = None

    def __enter__(self) -> "ConsistentSnapshot":
        with self.conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            cur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
            status = {r["Variable_name"].lower(): r["Value"] for r in cur.fetchall()}
            file, pos = status.get("binlog_snapshot_file"), status.get("binlog_snapshot_position")
            if not file:
                raise CaptureError("the server reports no binlog_snapshot_file: is log_bin enabled?")
            cur.execute("SELECT BINLOG_GTID_POS(%s, %s) AS g", (file, int(pos)))
            gtid = cur.fetchone()["g"]
            if gtid is None:
                raise CaptureError(f"cannot map binlog position {file}:{pos} to a GTID position")
        self.position = SnapshotPosition(file, int(pos), gtid)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")
        finally:
            self.conn.close()

    def count(self, table: str, order_by: tuple[str, ...] = (), after: tuple | None = None,
              limit: int | None = None) -> int:
        """Rows of the table; with ``after``, those whose key (``order_by``) sorts after it; with
        ``limit``, counted up to that many (``limit=1``: has it rows)."""
        where, args = _after(order_by, after)
        query = f"SELECT COUNT(*) AS n FROM `{table}` {where}"
        if limit:
            query = f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM `{table}` {where} LIMIT {int(limit)}) AS t"
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return int(cur.fetchone()["n"])

    def rows(self, table: str, order_by: tuple[str, ...], after: tuple | None = None,
             limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Rows in primary-key order; with ``after``, only those whose key sorts after it."""
        order = ", ".join(f"`{c}`" for c in order_by) or "1"
        where, args = _after(order_by, after)
        tail = f" LIMIT {int(limit)}" if limit else ""
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT * FROM `{table}` {where} ORDER BY {order}{tail}", args)
            while True:
                chunk = cur.fetchmany(2000)
                if not chunk:
                    break
                yield from chunk


def covers(position: str, target: str) -> bool:
    """Does GTID position ``position`` include every transaction of ``target`` (per domain)?"""
    def seqs(text: str) -> dict[str, int]:
        return {p.split("-")[0]: int(p.rsplit("-", 1)[1]) for p in filter(None, (x.strip() for x in text.split(",")))}
    have = seqs(position or "")
    return all(have.get(domain, -1) >= seq for domain, seq in seqs(target or "").items())


def _after(order_by: tuple[str, ...], after: tuple | None) -> tuple[str, tuple]:
    """``WHERE`` keys sort after ``after``, spelt out column by column (``a > x OR a = x AND
    b > y``), which the range optimiser reads as index ranges, unlike a row comparison."""
    if after is None:
        return "", ()
    terms, args = [], []
    for i, column in enumerate(order_by):
        equal = [f"`{c}` = %s" for c in order_by[:i]]
        terms.append("(" + " AND ".join([*equal, f"`{column}` > %s"]) + ")")
        args += [*after[:i], after[i]]
    return "WHERE " + " OR ".join(terms), tuple(args)


# Debezium's SnapshotRecord values, as written in source.snapshot
FIRST, FIRST_IN_TABLE, TRUE, LAST_IN_TABLE, LAST = (
    "first", "first_in_data_collection", "true", "last_in_data_collection", "last")


def marker(first: bool, first_in_table: bool, last_in_table: bool, last: bool) -> str:
    """The ``source.snapshot`` value of one snapshot row, Debezium's precedence: the snapshot's
    first record, its last, then a table's first, a table's last, else ``true``."""
    if first:
        return FIRST
    if last:
        return LAST
    if first_in_table:
        return FIRST_IN_TABLE
    if last_in_table:
        return LAST_IN_TABLE
    return TRUE


@dataclass(frozen=True)
class SnapshotProgress:
    """How far the initial snapshot has got, stored in the offset with every chunk it commits.

    ``tables`` are those still to read, the first being read now, from after the primary key
    ``after_key`` (None: from its first row). ``done`` counts the rows written per table, and
    ``totals`` the rows each table had when its count was taken (for progress figures only).
    ``resumed`` counts the restarts the snapshot went through."""
    tables: tuple[str, ...]
    after_key: tuple | None = None
    rows: int = 0                  # rows written so far, all tables
    chunks: int = 0                # chunks committed so far (Kafka transactions)
    done: tuple[tuple[str, int], ...] = ()
    totals: tuple[tuple[str, int], ...] = ()
    resumed: int = 0
    started_ms: int = 0

    @classmethod
    def start(cls, tables: list[str] | tuple[str, ...]) -> "SnapshotProgress":
        return cls(tuple(tables), None, 0, 0, tuple((t, 0) for t in tables), (), 0, int(time.time() * 1000))

    @property
    def table(self) -> str | None:
        return self.tables[0] if self.tables else None

    @property
    def finished(self) -> bool:
        return not self.tables

    def rows_of(self, table: str) -> int:
        return dict(self.done).get(table, 0)

    def total_of(self, table: str) -> int | None:
        return dict(self.totals).get(table)

    def with_totals(self, totals: dict[str, int]) -> "SnapshotProgress":
        merged = dict(self.totals)
        merged.update(totals)
        return replace(self, totals=tuple(merged.items()))

    def after_chunk(self, rows: int, last_key: tuple | None, more: bool) -> "SnapshotProgress":
        """The progress once a chunk of ``rows`` rows of the current table is committed, the last
        of them keyed ``last_key``; ``more``: the table has rows after it."""
        assert self.tables, "the snapshot is finished"
        table = self.tables[0]
        done = tuple((t, n + rows if t == table else n) for t, n in self.done)
        if table not in dict(done):
            done += ((table, rows),)
        if more:
            assert last_key is not None, "a chunk followed by more rows has a last key"
            return replace(self, after_key=tuple(last_key), rows=self.rows + rows, chunks=self.chunks + 1, done=done)
        rest = self.tables[1:]
        # an empty table not last is passed over without a Kafka transaction of its own
        return replace(self, tables=rest, after_key=None, rows=self.rows + rows,
                       chunks=self.chunks + (1 if rows or not rest else 0), done=done)

    def markers(self, count: int, more: bool, later_rows: int) -> list[str]:
        """The markers of a chunk of ``count`` rows of the current table read now: ``more`` when
        the table has rows after the chunk, ``later_rows`` the rows of the tables after it."""
        out = []
        for i in range(count):
            first_in_table = self.after_key is None and i == 0
            last_in_table = not more and i == count - 1
            out.append(marker(first=self.rows == 0 and i == 0, first_in_table=first_in_table, last_in_table=last_in_table,
                              last=last_in_table and later_rows == 0))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"tables": list(self.tables), "after_key": list(self.after_key) if self.after_key is not None else None,
                "rows": self.rows, "chunks": self.chunks, "done": [list(d) for d in self.done],
                "totals": [list(t) for t in self.totals], "resumed": self.resumed, "started_ms": self.started_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SnapshotProgress":
        after = data.get("after_key")
        return cls(tuple(data.get("tables", ())), tuple(after) if after is not None else None,
                   int(data.get("rows", 0)), int(data.get("chunks", 0)),
                   tuple((str(t), int(n)) for t, n in data.get("done", ())),
                   tuple((str(t), int(n)) for t, n in data.get("totals", ())),
                   int(data.get("resumed", 0)), int(data.get("started_ms", 0)))


class Rate:
    """Rows per second over the whole run and a one-line progress report, said at most every
    ``every_s`` seconds (``due``)."""

    def __init__(self, every_s: float = 10.0, clock=time.monotonic) -> None:
        self.clock = clock
        self.started = self.last_said = clock()
        self.every_s = every_s
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows

    def per_second(self) -> float:
        elapsed = self.clock() - self.started
        return self.rows / elapsed if elapsed > 0 else 0.0

    def due(self) -> bool:
        now = self.clock()
        if now - self.last_said >= self.every_s:
            self.last_said = now
            return True
        return False


def progress_line(progress: SnapshotProgress, rows_per_s: float) -> str:
    """``ps_orders 12000/50000 rows (24.0 %), 2 of 5 tables done, 3 chunks, 8500 rows/s``."""
    table = progress.table
    finished = sum(1 for t, _ in progress.done if t not in progress.tables)
    head = "done"
    if table is not None:
        total = progress.total_of(table)
        done = progress.rows_of(table)
        share = f" ({100 * done / total:.1f} %)" if total else ""
        head = f"{table} {done}/{total if total is not None else '?'} rows{share}"
    return (f"{head}, {finished} of {len(progress.done)} tables done, {progress.chunks} chunks, "
            f"{progress.rows} rows, {rows_per_s:.0f} rows/s")
