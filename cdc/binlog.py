"""Reading the binlog as a sequence of committed transactions (MariaDB GTID positions)."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import (
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from pssync.cdc import binlog_rows, binlog_speedups
from pssync.cdc.columns import TableDef, table_from_binlog, with_defaults, with_key
from pssync.cdc.errors import (ChangeNotInRows, DisplacedByAnotherReader, MissingPrivileges, PositionPurged,
                               SourceMisconfigured, TableTruncated)

log = logging.getLogger(__name__)

_IGNORED_QUERIES = ("BEGIN", "SAVEPOINT", "ROLLBACK TO", "XA ")
# statements that change rows: in ROW format the binlog holds their rows, never the statement
_DML = re.compile(r"(INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA|LOAD\s+XML|TRUNCATE)\b", re.I)
# TRUNCATE TABLE empties a table and is always logged as a statement, whatever binlog_format says
_TRUNCATE = re.compile(r"TRUNCATE\b", re.I)
_COMMENTS_AND_LITERALS = re.compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"",
                                    re.S)
# a table reference: `db`.`table`, db.table, `table` or table
_TABLE_REF = re.compile(r"(?:`((?:[^`]|``)+)`|([\w$]+))(?:\s*\.\s*(?:`((?:[^`]|``)+)`|([\w$]+)))?")


@dataclass
class RowChange:
    table: TableDef
    op: str                      # c, u, d
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    file: str
    pos: int                     # position of the rows event that carried it
    row: int                     # index of the row inside that event


@dataclass
class Rows:
    """The row changes of one binlog rows event, as they arrive inside a transaction: a large
    transaction is never held whole in memory."""
    gtid: str
    ts: int
    server_id: int
    changes: list[RowChange]


@dataclass
class Transaction:
    """A commit: everything of transaction ``gtid`` has been yielded as Rows before it."""
    gtid: str                    # this transaction's GTID, domain-server-sequence
    position: str                # GTID position after it (all domains): the resume point
    file: str
    pos: int                     # binlog position after its commit event
    ts: int                      # commit timestamp, seconds
    server_id: int


@dataclass
class Idle:
    """The server had nothing to send for a heartbeat period."""
    file: str
    pos: int


def merge_gtid(position: dict[int, str], gtid: str) -> None:
    domain = int(gtid.split("-", 1)[0])
    position[domain] = gtid


def parse_position(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        merge_gtid(out, part)
    return out


def format_position(position: dict[int, str]) -> str:
    return ",".join(position[d] for d in sorted(position))


class BinlogReader:
    def __init__(self, connection: dict[str, Any], server_id: int, database: str,
                 tables: list[str], start_gtid: str, heartbeat: float = 0.1,
                 report_host: str | None = None, key_columns: dict[str, tuple[str, ...]] | None = None,
                 catalogue: Callable[[str], TableDef | None] | None = None) -> None:
        self.server_id = server_id
        # the table as information_schema has it, for the column defaults a table map lacks
        self._catalogue = catalogue
        self._key_columns = key_columns or {}
        self._database = database
        self._tables = frozenset(tables)
        self._position = parse_position(start_gtid)
        self._table_defs: dict[tuple, TableDef] = {}
        self._by_table_obj: dict[int, tuple[Any, TableDef]] = {}
        binlog_rows.install()
        self._stream = BinLogStreamReader(
            connection_settings=connection,
            server_id=server_id,
            is_mariadb=True,
            auto_position=start_gtid or None,
            blocking=True,
            resume_stream=True,
            only_schemas=[database],
            only_tables=tables,
            only_events=[MariadbGtidEvent, XidEvent, QueryEvent, WriteRowsEvent, UpdateRowsEvent,
                         DeleteRowsEvent, HeartbeatLogEvent, RotateEvent, binlog_speedups.install()],
            slave_heartbeat=heartbeat,
            report_slave=report_host,      # listed in SHOW SLAVE HOSTS under that name
        )

    @property
    def file(self) -> str:
        return self._stream.log_file

    @property
    def pos(self) -> int:
        return self._stream.log_pos

    def close(self) -> None:
        self._stream.close()

    def _table_def(self, event: Any) -> TableDef:
        table_obj = event.table_map[event.table_id]
        known = self._by_table_obj.get(id(table_obj))
        if known is not None and known[0] is table_obj:
            return known[1]
        found = self._table_def_of(event, table_obj)
        if len(self._by_table_obj) > 1000:
            self._by_table_obj.clear()
        self._by_table_obj[id(table_obj)] = (table_obj, found)
        return found

    def _table_def_of(self, event: Any, table_obj: Any) -> TableDef:
        signature = (event.schema, event.table, tuple(
            (c.name, c.type, c.unsigned, c.is_primary, getattr(c, "nullable", True), getattr(c, "precision", None),
             getattr(c, "decimals", None), getattr(c, "fsp", None), c.character_set_name,
             tuple(c.enum_values or ()), tuple(c.set_values or ()), getattr(c, "bits", None))
            for c in table_obj.columns))
        found = self._table_defs.get(signature)
        if found is None:
            if any(c.name is None for c in table_obj.columns):
                raise SourceMisconfigured(
                    f"binlog events for {event.schema}.{event.table} carry no column names: "
                    "set binlog_row_metadata=FULL on the server")
            found = with_key(table_from_binlog(event.schema, event.table, table_obj.columns),
                             self._key_columns.get(event.table))
            if self._catalogue is not None:
                found = with_defaults(found, self._catalogue(event.table))
            if len(self._table_defs) > 1000:
                self._table_defs.clear()
            self._table_defs[signature] = found
        return found

    def __iter__(self) -> Iterator[Rows | Transaction | Idle]:
        current: Transaction | None = None
        try:
            for event in self._stream:
                if isinstance(event, MariadbGtidEvent):
                    current = Transaction(event.gtid, "", "", 0, event.timestamp,
                                          event.packet.server_id)
                elif isinstance(event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                    if current is None:
                        continue  # started mid-transaction; cannot happen when resuming by GTID
                    table = self._table_def(event)
                    pos = event.packet.log_pos - event.packet.event_size    # where the rows event starts
                    if isinstance(event, WriteRowsEvent):
                        changes = [RowChange(table, "c", None, row["values"], self.file, pos, i)
                                   for i, row in enumerate(event.rows)]
                    elif isinstance(event, UpdateRowsEvent):
                        changes = [RowChange(table, "u", row["before_values"], row["after_values"],
                                             self.file, pos, i) for i, row in enumerate(event.rows)]
                    else:
                        changes = [RowChange(table, "d", row["values"], None, self.file, pos, i)
                                   for i, row in enumerate(event.rows)]
                    yield Rows(current.gtid, current.ts, current.server_id, changes)
                elif isinstance(event, QueryEvent) and (
                        changed := changed_tables(event.query, _text(event.schema), self._database, self._tables)):
                    # a session (or the server) logs in STATEMENT/MIXED format: the rows are unknown,
                    # and going on would lose them without a word; stop before this transaction
                    gtid = current.gtid if current is not None else "(unknown)"
                    if _TRUNCATE.match(_COMMENTS_AND_LITERALS.sub(" ", _text(event.query)).strip()):
                        raise TableTruncated(
                            f"{', '.join(f'{self._database}.{t}' for t in changed)} emptied by TRUNCATE (GTID "
                            f"{gtid}, binlog {self.file}:{event.packet.log_pos}); TRUNCATE is always logged as a "
                            "statement, so the rows it removed are not in the binlog and no delete event can be "
                            "sent for them. The capture stopped before it, its offset not advanced past it. "
                            "Fix: restart with `pssync cdc run --resnapshot` so the tables are read again "
                            "(consumers then see the table as it is now); to empty a captured table, use "
                            "DELETE FROM, which is logged row by row")
                    raise ChangeNotInRows(
                        f"{', '.join(f'{self._database}.{t}' for t in changed)} changed by a statement the "
                        f"binlog holds as SQL, not as rows (GTID {gtid}, binlog {self.file}:{event.packet.log_pos}: "
                        f"{_text(event.query)[:160]!r}); the capture cannot know which rows it changed and "
                        "stopped before it, its offset not advanced past it. Fix: SET GLOBAL "
                        "binlog_format='ROW' (and binlog_format=ROW in the server config; a session that set "
                        "SET SESSION binlog_format must stop doing so), then restart with "
                        "`pssync cdc run --resnapshot` so the tables are read again")
                elif isinstance(event, XidEvent) or (
                        isinstance(event, QueryEvent) and not _ignored(event.query)):
                    if current is None:
                        continue
                    merge_gtid(self._position, current.gtid)
                    current.position = format_position(self._position)
                    current.file, current.pos = self.file, self.pos
                    yield current
                    current = None
                elif isinstance(event, HeartbeatLogEvent):
                    if current is None:
                        yield Idle(self.file, self.pos)
        except pymysql.err.OperationalError as exc:
            code = exc.args[0]
            if code == 1236:
                raise PositionPurged(
                    f"the server no longer has the binlog at GTID position "
                    f"{format_position(self._position)!r} ({exc.args[-1]}). Events were lost to "
                    "binlog expiry: take a new snapshot with `pssync cdc run --resnapshot`.") from exc
            if code == 4052:
                raise DisplacedByAnotherReader(
                    f"another binlog reader connected with server_id {self.server_id}"
                    " and the server dropped this one: give each capture its own mysql.server_id, "
                    "or stop the other instance") from exc
            if code in (1227, 1045):
                raise MissingPrivileges(
                    f"the binlog connection was refused ({exc.args[-1]}): the capture user needs "
                    "REPLICATION SLAVE and REPLICATION SLAVE ADMIN") from exc
            raise


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value or "")


def _ignored(query: Any) -> bool:
    return _text(query).lstrip().upper().startswith(_IGNORED_QUERIES)


def changed_tables(query: Any, default_schema: str, database: str, tables: frozenset[str]) -> list[str]:
    """The captured tables a row-changing statement (INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, TRUNCATE)
    names, found in a query event; empty for DDL and for statements on other tables. Every table
    it mentions counts (a multi-table UPDATE, INSERT … SELECT): a false alarm stops the capture,
    a miss would lose rows."""
    text = _COMMENTS_AND_LITERALS.sub(" ", _text(query)).strip()
    if not _DML.match(text):
        return []
    found: list[str] = []
    for m in _TABLE_REF.finditer(text):
        first, second = m.group(1) or m.group(2), m.group(3) or m.group(4)
        schema, table = (first, second) if second else (default_schema, first)
        table = table.replace("``", "`")
        if schema == database and table in tables and table not in found:
            found.append(table)
    return found
