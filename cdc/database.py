"""The PrestaShop MySQL/MariaDB database as a change source: connections, preflight checks,
the live catalogue and binlog positions."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from pssync.cdc.columns import TableDef, column_from_catalogue
from pssync.cdc.errors import CaptureError, MissingPrivileges, SourceMisconfigured
from pssync.prestashop.database import connect  # noqa: F401  (the capture's connections)
from pssync.settings import MySQLSettings

REQUIRED_SERVER_SETTINGS = {
    "log_bin": ("1", "ON"),
    "binlog_format": ("ROW",),
    "binlog_row_image": ("FULL",),
    "binlog_row_metadata": ("FULL",),
}
REQUIRED_PRIVILEGES = ("SELECT", "RELOAD", "REPLICATION SLAVE", "BINLOG MONITOR")


@dataclass(frozen=True)
class BinlogHead:
    file: str
    pos: int
    gtid: str


def binlog_connection_settings(settings: MySQLSettings) -> dict[str, Any]:
    return {"host": settings.host, "port": settings.port, "user": settings.user,
            "password": settings.password, "connect_timeout": settings.connect_timeout}


def server_settings(conn: pymysql.connections.Connection) -> dict[str, str]:
    with conn.cursor() as cur:
        # the global values: what new sessions write (one may still set its own, which the binlog
        # reader catches: cdc.binlog.changed_tables)
        cur.execute("SELECT @@log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format, "
                    "@@GLOBAL.binlog_row_image AS binlog_row_image, @@version AS version")
        row = dict(cur.fetchone())
        try:
            cur.execute("SELECT @@GLOBAL.binlog_row_metadata AS m")
            row["binlog_row_metadata"] = cur.fetchone()["m"]
        except pymysql.err.OperationalError:
            row["binlog_row_metadata"] = "(not supported by this server)"
    return {k: str(v) for k, v in row.items()}


def check_server(conn: pymysql.connections.Connection) -> None:
    """Refuse to start on a server whose binlog cannot give exact row changes."""
    found = server_settings(conn)
    problems = [f"{name} is {found.get(name)!r}, needs {' or '.join(ok)}"
                for name, ok in REQUIRED_SERVER_SETTINGS.items()
                if str(found.get(name, "")).upper() not in ok]
    if problems:
        raise SourceMisconfigured(
            "the MySQL server cannot be captured: " + "; ".join(problems)
            + ". Set them in the server config ([mysqld] log_bin, binlog_format=ROW, "
              "binlog_row_image=FULL, binlog_row_metadata=FULL) and restart it.")
    missing = missing_privileges(conn)
    if missing:
        raise MissingPrivileges(
            f"the capture user lacks {', '.join(missing)}; grant them, e.g. "
            f"GRANT {', '.join(missing)} ON *.* TO <user>")


def missing_privileges(conn: pymysql.connections.Connection) -> list[str]:
    with conn.cursor(pymysql.cursors.Cursor) as cur:
        cur.execute("SHOW GRANTS")
        grants = " ".join(row[0].upper() for row in cur.fetchall())
    if "ALL PRIVILEGES ON *.*" in grants:
        return []
    global_grants = " ".join(re.findall(r"GRANT (.*?) ON \*\.\*", grants))
    missing = []
    for priv in REQUIRED_PRIVILEGES:
        if priv == "SELECT":
            if "SELECT" not in grants:
                missing.append(priv)
        elif priv == "BINLOG MONITOR":
            if "BINLOG MONITOR" not in global_grants and "REPLICATION CLIENT" not in global_grants \
                    and "SUPER" not in global_grants:
                missing.append(priv)
        elif priv not in global_grants:
            missing.append(priv)
    return missing


def prefixed(settings: MySQLSettings, table: str) -> str:
    return settings.table_prefix + table


def existing_tables(conn: pymysql.connections.Connection, database: str) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s", (database,))
        return {r["TABLE_NAME"] for r in cur.fetchall()}


def table_def(conn: pymysql.connections.Connection, database: str, table: str) -> TableDef:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, "
            "DATETIME_PRECISION, COLUMN_KEY, IS_NULLABLE, COLUMN_DEFAULT, CHARACTER_OCTET_LENGTH "
            "FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY ORDINAL_POSITION", (database, table))
        rows = cur.fetchall()
        if not rows:
            raise CaptureError(f"table {database}.{table} does not exist")
        cur.execute(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s "
            "AND TABLE_NAME=%s AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX", (database, table))
        pk = tuple(r["COLUMN_NAME"] for r in cur.fetchall())
    cols = tuple(column_from_catalogue(r, r["COLUMN_NAME"] in pk) for r in rows)
    return TableDef(database, table, cols, pk)


def binlog_head(conn: pymysql.connections.Connection) -> BinlogHead:
    with conn.cursor() as cur:
        try:
            cur.execute("SHOW MASTER STATUS")
        except pymysql.err.OperationalError as exc:
            if exc.args[0] in (1227, 1142):
                raise MissingPrivileges("the capture user needs BINLOG MONITOR (REPLICATION CLIENT) "
                                        "to read the binlog position") from exc
            raise
        row = cur.fetchone()
        if not row:
            raise SourceMisconfigured("binary logging is off on the server (SHOW MASTER STATUS is empty)")
        cur.execute("SELECT @@gtid_binlog_pos AS g")
        gtid = cur.fetchone()["g"] or ""
    return BinlogHead(row["File"], int(row["Position"]), gtid)


def binlog_files(conn: pymysql.connections.Connection) -> list[tuple[str, int]]:
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        return [(r["Log_name"], int(r["File_size"])) for r in cur.fetchall()]
