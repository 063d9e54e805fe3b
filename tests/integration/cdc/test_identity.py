"""A capture started by mistake with the name or the server_id of a running one is refused, naming
the conflict and the fix, and the running capture goes on undisturbed."""
from __future__ import annotations

import pytest
from pymysqlreplication import BinLogStreamReader

from pssync.cdc.capture import Capture
from pssync.cdc.errors import AnotherCaptureRunning
from tests.integration.support import CaptureThread

pytestmark = pytest.mark.integration


def with_mysql(settings, **changes):
    return settings.model_copy(update={"mysql": settings.mysql.model_copy(update=changes)})


def with_capture(settings, **changes):
    return settings.model_copy(update={"capture": settings.capture.model_copy(update=changes)})


def test_second_capture_with_the_same_name_or_server_id_is_refused(scratch):
    settings = scratch.settings(["stock_available"])
    with CaptureThread(settings) as first:
        first.wait_committed(scratch.gtid_seq())

        same_name = Capture(with_mysql(settings, server_id=settings.mysql.server_id + 1))
        with pytest.raises(AnotherCaptureRunning) as err:
            same_name.prepare()
        same_name.close()
        assert f"a capture with name {settings.capture.name!r} is already running" in str(err.value)
        assert "give this one its own capture.name and mysql.server_id" in str(err.value)

        same_server_id = Capture(with_capture(settings, name=f"{settings.capture.name}-other",
                                              offsets_topic=f"{scratch.prefix}.offsets-other"))
        with pytest.raises(AnotherCaptureRunning) as err:
            same_server_id.prepare()
        same_server_id.close()
        assert f"mysql.server_id {settings.mysql.server_id} is already running" in str(err.value)

        # the running capture was neither fenced nor dropped from the binlog
        scratch.sql("UPDATE ps_stock_available SET quantity=7 WHERE id_stock_available=2")
        first.wait_committed(scratch.gtid_seq())

    # once it stopped, the same identity starts again
    with CaptureThread(settings) as again:
        again.wait_committed(scratch.gtid_seq())
    events = [e for e in scratch.read_topic(scratch.topic("stock_available"), min_count=59)
              if e.value["op"] != "r"]
    assert [(e.key["id_stock_available"], e.value["after"]["quantity"]) for e in events] == [(2, 7)]


def test_other_binlog_reader_with_the_same_server_id_is_refused(scratch):
    # a reader that is not a pssync capture (a replica, another CDC tool) registered with the server;
    # SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN: the capture runs as the stack's root here
    settings = with_mysql(scratch.settings(["orders"]), user="root", password="")
    other = BinLogStreamReader(
        connection_settings={"host": "127.0.0.1", "port": scratch.stack.mariadb_port, "user": "root",
                             "passwd": ""},
        server_id=settings.mysql.server_id, is_mariadb=True, blocking=True,
        report_slave="replica-elsewhere", slave_heartbeat=1)
    try:
        assert other.fetchone() is not None        # connected and registered
        capture = Capture(settings)
        with pytest.raises(AnotherCaptureRunning) as err:
            capture.prepare()
        capture.close()
        assert f"a binlog reader with mysql.server_id {settings.mysql.server_id} is connected" in str(err.value)
        assert "replica-elsewhere" in str(err.value)
    finally:
        other.close()


def test_a_user_who_may_not_list_binlog_readers_is_told_the_check_was_not_made(scratch, caplog):
    # a capture user without REPLICATION MASTER ADMIN: SHOW SLAVE HOSTS is refused to it
    import logging

    import pymysql

    from pssync.cdc.identity import CaptureLock

    root = pymysql.connect(host="127.0.0.1", port=scratch.stack.mariadb_port, user="root", autocommit=True)
    with root.cursor() as cur:
        cur.execute("CREATE USER IF NOT EXISTS 'pssync_no_admin'@'%' IDENTIFIED BY 'pssync'")
        cur.execute(f"GRANT SELECT ON `{scratch.database}`.* TO 'pssync_no_admin'@'%'")
    root.close()
    settings = with_mysql(scratch.settings(["orders"]), user="pssync_no_admin", password="pssync")
    caplog.set_level(logging.WARNING, logger="pssync.cdc.identity")
    lock = CaptureLock(settings.mysql, settings.capture.name)
    lock.acquire()
    lock.release()
    said = [r.getMessage() for r in caplog.records if r.name == "pssync.cdc.identity"]
    assert len(said) == 1, said
    assert f"could not check for other binlog readers with mysql.server_id {settings.mysql.server_id}" in said[0]
    assert "GRANT REPLICATION MASTER ADMIN ON *.* TO the capture user" in said[0]
