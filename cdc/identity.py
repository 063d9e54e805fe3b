"""One live capture per name and per ``server_id``.

A binlog reader that connects with the ``server_id`` of another one makes MariaDB drop the other
(error 4052), and a second capture with the same name fences the first at Kafka: either way the
running capture stops because of one started by mistake. So a capture holds two MariaDB user
locks, ``GET_LOCK``, on a connection of its own for as long as it runs — one for its name, one for
its ``server_id`` — and refuses to start when either is held. MariaDB releases them when that
connection ends, however the process ends (SIGKILL included), so a crashed capture never blocks
the next. ``pssync cdc status`` reads the name lock to tell a running capture from a stopped one.

Readers that are not pssync captures cannot take our locks; those that register with the server
(replicas, and the captures themselves) are listed by ``SHOW SLAVE HOSTS``, checked too. The
handling of error 4052 in :mod:`pssync.cdc.binlog` stays the last line."""
from __future__ import annotations

import hashlib
import logging
import time

import pymysql

from pssync.cdc import database
from pssync.cdc.errors import AnotherCaptureRunning
from pssync.settings import MySQLSettings

log = logging.getLogger(__name__)

KEEPALIVE_S = 60.0           # well under any server wait_timeout
_MAX_LOCK_NAME = 64          # MariaDB's limit on user lock names


def _lock_name(kind: str, value: str) -> str:
    name = f"pssync-cdc-{kind}-{value}"
    if len(name) <= _MAX_LOCK_NAME:
        return name
    return f"pssync-cdc-{kind}-" + hashlib.sha1(value.encode()).hexdigest()


def name_lock(capture_name: str) -> str:
    return _lock_name("name", capture_name)


def server_id_lock(server_id: int) -> str:
    return _lock_name("sid", str(server_id))


_REPORT_PREFIX = "pssync-cdc "


def report_host(capture_name: str) -> str:
    """What the capture reports as its host in SHOW SLAVE HOSTS (MariaDB keeps 60 characters)."""
    return f"{_REPORT_PREFIX}{capture_name}"[:60]


FIX = ("stop the other capture first, or give this one its own capture.name and mysql.server_id "
       "(a config file that was not read, or an empty one, runs on the defaults: capture.name "
       "'prestashop', mysql.server_id 5401)")


class CaptureLock:
    """The locks a running capture holds; ``acquire`` refuses with :class:`AnotherCaptureRunning`."""

    def __init__(self, mysql: MySQLSettings, capture_name: str) -> None:
        self.mysql = mysql
        self.capture_name = capture_name
        self.locks = ((name_lock(capture_name), f"name {capture_name!r}"),
                      (server_id_lock(mysql.server_id), f"mysql.server_id {mysql.server_id}"))
        self._conn: pymysql.connections.Connection | None = None
        self._checked = 0.0

    def acquire(self) -> None:
        conn = database.connect(self.mysql)
        try:
            for lock, what in self.locks:
                with conn.cursor() as cur:
                    cur.execute("SELECT GET_LOCK(%s, 0) AS got", (lock,))
                    if cur.fetchone()["got"] != 1:
                        raise AnotherCaptureRunning(
                            f"a capture with {what} is already running ({_holder(conn, lock)}); "
                            f"this one was not started: {FIX}")
            reader = _registered_reader(conn, self.mysql.server_id)
            if reader:
                raise AnotherCaptureRunning(
                    f"a binlog reader with mysql.server_id {self.mysql.server_id} is connected to the "
                    f"server ({reader}); starting would make the server drop it: {FIX}")
        except BaseException:
            conn.close()
            raise
        self._conn, self._checked = conn, time.monotonic()

    def keepalive(self) -> None:
        """Called often while streaming; at most every KEEPALIVE_S checks the lock connection is
        alive (an idle one is closed after wait_timeout, its locks with it) and takes the locks
        again on a new one if it was lost — or stops if another capture took them meanwhile."""
        if self._conn is None or time.monotonic() - self._checked < KEEPALIVE_S:
            return
        self._checked = time.monotonic()
        try:
            self._conn.ping(reconnect=False)
            return
        except pymysql.err.Error as exc:
            log.warning("the connection holding the capture's locks was lost (%s); taking them again", exc)
        self.release()
        self.acquire()

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()          # the server releases the locks with the connection
            except pymysql.err.Error:
                pass
            self._conn = None


def running(conn: pymysql.connections.Connection, capture_name: str) -> bool:
    """Whether a capture of that name is alive (holds its lock) on this server."""
    with conn.cursor() as cur:
        cur.execute("SELECT IS_USED_LOCK(%s) AS holder", (name_lock(capture_name),))
        return cur.fetchone()["holder"] is not None


def _holder(conn: pymysql.connections.Connection, lock: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT IS_USED_LOCK(%s) AS id", (lock,))
        holder = cur.fetchone()["id"]
        if holder is None:
            return "it has just stopped; try again"
        cur.execute("SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID=%s", (holder,))
        row = cur.fetchone()
    if row is None:   # not visible without the PROCESS privilege
        return f"MariaDB connection {holder}"
    return f"MariaDB connection {holder} of {row['USER']}@{row['HOST']}, connected {row['TIME']}s ago"


def _registered_reader(conn: pymysql.connections.Connection, server_id: int) -> str:
    """The binlog reader other than a pssync capture registered with ``server_id`` (SHOW SLAVE HOSTS),
    or ''. A capture's own entry is left out: the caller holds the server_id lock, so a capture
    listed there is one that is dying (killed, its dump thread not yet gone). Readers that do not
    register, and users without the privilege to list them, are not seen here."""
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW SLAVE HOSTS")
            rows = cur.fetchall()
    except pymysql.err.Error as exc:
        log.warning("could not check for other binlog readers with mysql.server_id %d: SHOW SLAVE HOSTS "
                    "was refused (%s). A reader that is not a pssync capture and uses that server_id "
                    "(a replica, Debezium) would be dropped by the server when this capture connects; "
                    "to have it checked: GRANT REPLICATION MASTER ADMIN ON *.* TO the capture user",
                    server_id, exc.args[-1] if exc.args else exc)
        return ""
    for row in rows:
        if int(row.get("Server_id") or 0) == server_id and not str(row.get("Host") or "").startswith(_REPORT_PREFIX):
            host = row.get("Host") or "(no host reported)"
            return f"SHOW SLAVE HOSTS: host {host}, port {row.get('Port')}"
    return ""
