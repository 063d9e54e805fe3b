"""The shop's MySQL/MariaDB database: the one way every stage connects to it."""
from __future__ import annotations

import pymysql
import pymysql.cursors

from pssync.errors import PermanentError, TransientError
from pssync.settings import MySQLSettings


class ShopDatabaseError(PermanentError):
    """The shop database refused us (login, missing database): the configuration must change."""


class ShopDatabaseUnavailable(TransientError):
    """The shop database could not be reached: worth trying again."""


def connect(settings: MySQLSettings, *, dict_rows: bool = True, unbuffered: bool = False,
            database: str | None = None) -> pymysql.connections.Connection:
    """A connection to the shop database (UTC session time zone, utf8mb4, autocommit). A refused
    login or a missing database raises :class:`ShopDatabaseError`; a server that cannot be reached
    :class:`ShopDatabaseUnavailable` (worth retrying)."""
    cursor = {(True, False): pymysql.cursors.DictCursor, (True, True): pymysql.cursors.SSDictCursor,
              (False, False): pymysql.cursors.Cursor, (False, True): pymysql.cursors.SSCursor}
    try:
        conn = pymysql.connect(
            host=settings.host, port=settings.port, user=settings.user, password=settings.password,
            database=database or settings.database, connect_timeout=settings.connect_timeout,
            cursorclass=cursor[(dict_rows, unbuffered)], autocommit=True, charset="utf8mb4",
        )
    except pymysql.err.OperationalError as exc:
        code = exc.args[0]
        where = f"{settings.user}@{settings.host}:{settings.port}/{database or settings.database}"
        if code == 1045:
            raise ShopDatabaseError(f"MySQL refused the login for {where}: wrong user or password") from exc
        if code == 1049:
            raise ShopDatabaseError(f"database {database or settings.database!r} does not exist on "
                               f"{settings.host}:{settings.port}") from exc
        raise ShopDatabaseUnavailable(f"cannot connect to MySQL at {where}: {exc.args[-1]}") from exc
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    return conn
