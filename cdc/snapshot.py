"""Consistent snapshot: rows of each table as of one binlog position, read inside a single
``START TRANSACTION WITH CONSISTENT SNAPSHOT`` whose binlog position MariaDB reports exactly
(``binlog_snapshot_file``/``binlog_snapshot_position``), so no global read lock is needed."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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

    def count(self, table: str) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) AS n FROM `{table}`")
            return int(cur.fetchone()["n"])

    def rows(self, table: str, order_by: tuple[str, ...], after: tuple | None = None,
             limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Rows in primary-key order; with ``after``, only those whose key sorts after it."""
        order = ", ".join(f"`{c}`" for c in order_by) or "1"
        where, args = "", ()
        if after is not None:
            where = f"WHERE ({order}) > ({', '.join(['%s'] * len(after))})"
            args = tuple(after)
        tail = f" LIMIT {int(limit)}" if limit else ""
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT * FROM `{table}` {where} ORDER BY {order}{tail}", args)
            while True:
                chunk = cur.fetchmany(2000)
                if not chunk:
                    break
                yield from chunk
