"""The capture refuses to start, with an error an operator can act on, when its source, registry
or broker cannot give exact results; and bad rows go to the dead-letter topic."""
from __future__ import annotations

import json
from decimal import Decimal
import time

import pymysql
import pytest
from confluent_kafka import Consumer, TopicPartition

from pssync.bus.kafka import BrokerUnavailable
from pssync.bus.registry import RegistryUnavailable, registry_client
from pssync.cdc import database
from pssync.cdc.capture import Capture, dead_letter_topic
from pssync.cdc.errors import MissingPrivileges, PositionPurged, SourceMisconfigured
from pssync.cdc.events import SourceInfo
from pssync.cdc.offsets import SourceOffset
from tests.integration.support import CaptureProcess, CaptureThread, wait_offset

pytestmark = pytest.mark.integration


def root(stack) -> pymysql.connections.Connection:
    # the local stack lets root in without a password from 127.0.0.1 only
    return pymysql.connect(host="127.0.0.1", port=stack.mariadb_port, user="root", autocommit=True)


@pytest.mark.parametrize("variable,value", [("binlog_row_metadata", "MINIMAL"),
                                            ("binlog_format", "STATEMENT"),
                                            ("binlog_row_image", "MINIMAL")])
def test_binlog_that_cannot_give_exact_rows_is_refused(scratch, variable, value):
    conn = root(scratch.stack)
    with conn.cursor() as cur:
        cur.execute(f"SELECT @@GLOBAL.{variable} AS v")
        before = cur.fetchone()[0]
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL {variable}='{value}'")
        with pytest.raises(SourceMisconfigured, match=f"{variable} is '{value}', needs"):
            Capture(scratch.settings(["orders"])).prepare()
    finally:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL {variable}='{before}'")
        conn.close()


def test_missing_replication_privileges_are_named(scratch):
    user = f"ro_{scratch.tag}"
    conn = root(scratch.stack)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'x'")
            cur.execute(f"GRANT SELECT ON `{scratch.database}`.* TO '{user}'@'%'")
        settings = scratch.settings(["orders"])
        settings.mysql.user, settings.mysql.password = user, "x"
        with pytest.raises(MissingPrivileges) as err:
            Capture(settings).prepare()
        assert "RELOAD, REPLICATION SLAVE, BINLOG MONITOR" in str(err.value)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()


def test_unknown_table_in_include_list_is_named(scratch):
    with pytest.raises(Exception, match="ps_no_such_table"):
        Capture(scratch.settings(["orders", "no_such_table"])).prepare()


def test_offset_no_longer_in_the_binlog_is_reported_with_the_remedy(scratch, tmp_path):
    settings = scratch.settings(["orders"])
    capture = Capture(settings)
    capture.prepare()
    # an offset the server cannot serve: a GTID from a server that never wrote this binlog
    capture._producer.begin_transaction()
    topic, key, value = capture.offsets.record(SourceOffset("0-4242-1", "mariadb-bin.000001", 4))
    capture._producer.produce(topic, key=key, value=value)
    capture._producer.commit_transaction()
    capture.close()
    thread = CaptureThread(settings).__enter__()
    thread.thread.join(30)
    assert isinstance(thread.error, PositionPurged)
    assert "0-4242-1" in str(thread.error) and "--resnapshot" in str(thread.error)
    thread.error = None
    thread.join()

    # the remedy the message gives: a new snapshot, then streaming resumes
    proc = CaptureProcess(settings, tmp_path)
    proc.start("--resnapshot")
    try:
        wait_offset(settings, scratch.gtid_seq(), timeout=60)
        scratch.sql("UPDATE ps_orders SET current_state=6 WHERE id_order=2")
        wait_offset(settings, scratch.gtid_seq(), timeout=60)
    finally:
        assert proc.terminate() == 0, proc.log.read_text()[-2000:]
    events = scratch.read_topic(scratch.topic("orders"), min_count=6)
    assert [e.value["op"] for e in events] == ["r"] * 5 + ["u"]


def test_unreachable_registry_fails_after_bounded_retries(scratch):
    settings = scratch.settings(["orders"], retry_attempts=2)
    settings.registry.url = "http://127.0.0.1:1/apis/ccompat/v7"
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="127.0.0.1:1"):
        Capture(settings).prepare()
    assert time.monotonic() - started < 30


def test_unreachable_broker_fails_with_a_clear_error(scratch):
    settings = scratch.settings(["orders"])
    settings.kafka.bootstrap_servers = "127.0.0.1:1"
    settings.kafka.connect_timeout = 3
    with pytest.raises(BrokerUnavailable, match="127.0.0.1:1 did not answer within 3s"):
        Capture(settings).prepare()


def test_unconvertible_row_goes_to_dead_letter_and_capture_continues(scratch):
    settings = scratch.settings(["orders"])
    capture = Capture(settings)
    capture.prepare()
    conn = database.connect(settings.mysql)
    table = database.table_def(conn, settings.mysql.database, "ps_orders")
    conn.close()
    good = scratch.sql("SELECT * FROM ps_orders ORDER BY id_order LIMIT 1")[0] | {"id_order": 77}
    bad = good | {"id_order": 78, "date_add": "not-a-date", "total_paid": Decimal("30.900000")}
    source = SourceInfo(settings.capture.topic_prefix, settings.mysql.database, "ps_orders", 0, 1,
                        "0-1-9", "mariadb-bin.000001", 4, 0)
    capture._producer.begin_transaction()
    assert capture._emit(table, "c", None, bad, source, None) == 0
    assert capture._emit(table, "c", None, good, source, None) == 1
    capture._producer.commit_transaction()
    capture.close()

    consumer = Consumer({"bootstrap.servers": scratch.stack.kafka_bootstrap, "group.id": scratch.tag,
                         "isolation.level": "read_committed"})
    consumer.assign([TopicPartition(dead_letter_topic(settings), 0, 0)])
    msg = consumer.poll(15)
    consumer.close()
    assert msg is not None and msg.error() is None
    headers = dict(msg.headers())
    assert b"ps_orders.date_add: cannot convert 'not-a-date'" in headers["__connect.errors.exception.message"]
    assert headers["__connect.errors.table"] == b"ps_orders"
    assert headers["pssync.column"] == b"date_add" and headers["pssync.value"] == b"not-a-date"
    assert headers["__connect.errors.gtid"] == b"0-1-9"
    row = json.loads(msg.value())["row"]
    assert row["id_order"] == 78 and row["total_paid"] == "30.900000"     # JSON values, not Python reprs
    # the schema id reported is the one the registry holds for the topic's subject
    subject = f"{scratch.topic('orders')}-value"
    registered = registry_client(scratch.registry_url).get_latest_version(subject).schema_id
    assert headers["pssync.schema.subject"] == subject.encode()
    assert headers["pssync.schema.id"] == str(registered).encode()
    assert json.loads(msg.value())["schema_id"] == registered
    assert scratch.read_topic(scratch.topic("orders"), min_count=1)[-1].key == {"id_order": 77}


def test_a_table_without_a_primary_key_is_refused_naming_the_fix_then_captured_on_its_configured_key(scratch):
    from pssync.cdc.errors import CaptureError

    scratch.sql("INSERT INTO ps_order_detail_tax VALUES (1, 1, 1.000000, 2.000000), (2, 1, 0.500000, 0.500000)")
    refused = Capture(scratch.settings(["order_detail_tax"]))
    with pytest.raises(CaptureError) as err:
        refused.prepare()
    refused.close()
    assert "tables without a primary key cannot be keyed: ps_order_detail_tax" in str(err.value)
    assert "key_columns: {order_detail_tax: [col_a, col_b]}" in str(err.value)

    settings = scratch.settings(["order_detail_tax"], key_columns={"order_detail_tax": ["id_order_detail", "id_tax"]})
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_order_detail_tax SET total_amount=3 WHERE id_order_detail=1")
        scratch.sql("DELETE FROM ps_order_detail_tax WHERE id_order_detail=2")
        cap.wait_committed(scratch.gtid_seq())
    events = scratch.read_topic(scratch.topic("order_detail_tax"), min_count=5)
    assert [(e.key, e.value["op"] if e.value else "tombstone") for e in events] == [
        ({"id_order_detail": 1, "id_tax": 1}, "r"), ({"id_order_detail": 2, "id_tax": 1}, "r"),
        ({"id_order_detail": 1, "id_tax": 1}, "u"), ({"id_order_detail": 2, "id_tax": 1}, "d"),
        ({"id_order_detail": 2, "id_tax": 1}, "tombstone")]
