"""A change the binlog holds as SQL instead of rows (a session in STATEMENT format) stops the capture
loudly, before it and with its offset behind it; `pssync cdc status` says it failed and why."""
from __future__ import annotations

import json

import pymysql
import pytest

from pssync.cdc.binlog import parse_position
from pssync.cdc.errors import ChangeNotInRows, TableTruncated
from pssync.cdc.offsets import OffsetStore
from tests.integration.support import CaptureThread, run_cli

pytestmark = pytest.mark.integration


def statement_session(scratch) -> pymysql.connections.Connection:
    # SET SESSION binlog_format needs SUPER (BINLOG ADMIN): the stack's root, from 127.0.0.1 only
    conn = pymysql.connect(host="127.0.0.1", port=scratch.stack.mariadb_port, user="root",
                           database=scratch.database, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SET SESSION binlog_format='STATEMENT'")
    return conn


def last_gtid(conn: pymysql.connections.Connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT @@last_gtid")
        return cur.fetchone()[0]


def test_change_logged_as_a_statement_stops_the_capture_before_it(scratch, tmp_path):
    import yaml

    settings = scratch.settings(["orders"])
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    session = statement_session(scratch)
    try:
        cap = CaptureThread(settings).__enter__()
        cap.wait_committed(scratch.gtid_seq())
        status = json.loads(run_cli("cdc", "status", "--json", "--config", str(config)).stdout)
        assert status["state"] == "streaming"

        # DDL is always a statement: the capture goes on past it
        with session.cursor() as cur:
            cur.execute("ALTER TABLE ps_orders ADD COLUMN note_x INT NULL")
        ddl = last_gtid(session)
        cap.wait_committed(int(ddl.rsplit("-", 1)[1]))

        with session.cursor() as cur:
            cur.execute("UPDATE ps_orders SET current_state = 4 WHERE id_order = 1")
        lost = last_gtid(session)
        cap.thread.join(30)
        assert not cap.thread.is_alive(), "the capture did not stop on a change it cannot see"
        error = cap.error
        cap.error = None
        cap.join()
    finally:
        session.close()

    assert isinstance(error, ChangeNotInRows), error
    message = str(error)
    assert f"{scratch.database}.ps_orders" in message and f"GTID {lost}" in message
    assert "SET GLOBAL binlog_format='ROW'" in message and "--resnapshot" in message

    offset = OffsetStore(settings.kafka, settings.capture.offsets_topic, settings.capture.name).load()
    domain = int(lost.split("-", 1)[0])
    committed = parse_position(offset.gtid)[domain]
    assert committed == ddl, f"offset {offset.gtid} went past the change it could not capture ({lost})"

    done = run_cli("cdc", "status", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["state"] == "failed"
    assert "ChangeNotInRows" in status["reason"] and f"GTID {lost}" in status["reason"]
    assert status["transactions_behind"] >= 1


def test_truncate_of_a_captured_table_stops_the_capture_before_it(scratch):
    """TRUNCATE is logged as a statement even in ROW format: its rows are gone without delete
    events, so the capture stops there, naming the table and the fix, instead of going on."""
    settings = scratch.settings(["orders", "stock_available"])
    cap = CaptureThread(settings).__enter__()
    cap.wait_committed(scratch.gtid_seq())
    scratch.sql("TRUNCATE TABLE ps_stock_available")
    truncated = scratch.sql("SELECT @@last_gtid AS g")[0]["g"]
    cap.thread.join(30)
    assert not cap.thread.is_alive(), "the capture went on past a TRUNCATE of a captured table"
    error = cap.error
    cap.error = None
    cap.join()

    assert isinstance(error, TableTruncated), error
    message = str(error)
    assert f"{scratch.database}.ps_stock_available emptied by TRUNCATE (GTID {truncated}" in message
    assert "--resnapshot" in message and "DELETE FROM" in message
    offset = OffsetStore(settings.kafka, settings.capture.offsets_topic, settings.capture.name).load()
    domain = int(truncated.split("-", 1)[0])
    assert parse_position(offset.gtid)[domain] != truncated
