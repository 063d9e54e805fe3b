"""The initial snapshot in chunks, each a Kafka transaction with its progress in the offset:
SIGKILL mid-table, restart, and the read_committed view has every row once and every key's events
in commit order, then the stream."""
from __future__ import annotations

import json
import threading
import time

import pymysql
import pytest

from pssync.cdc.capture import Capture
from pssync.cdc.offsets import OffsetStore, SourceOffset
from tests.integration.cdc.test_capture_events import ORDER_INSERT
from tests.integration.support import CaptureProcess, read_topics, run_cli, wait_offset

pytestmark = pytest.mark.integration

STOCK_COLUMNS = ("id_stock_available, id_product, id_product_attribute, id_shop, id_shop_group, quantity, "
                 "physical_quantity, reserved_quantity, depends_on_stock, out_of_stock, location")


def wait_for_offset(store: OffsetStore, condition, timeout: float = 90) -> SourceOffset:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = store.load(timeout=10)
        if last is not None and condition(last):
            return last
        time.sleep(0.2)
    raise TimeoutError(f"the committed offset did not get there: {last}")


def test_snapshot_killed_mid_table_resumes_at_the_next_chunk_exactly_once(scratch, tmp_path):
    rows = ", ".join(f"({1000 + i}, {5000 + i}, 0, 1, 0, {i}, {i}, 0, 0, 2, '')" for i in range(1942))
    scratch.sql(f"INSERT INTO ps_stock_available ({STOCK_COLUMNS}) VALUES {rows}")
    keys = [r["id_stock_available"] for r in scratch.sql(
        "SELECT id_stock_available FROM ps_stock_available ORDER BY id_stock_available")]
    assert len(keys) == 2000                            # 20 chunks of 100
    settings = scratch.settings(["stock_available", "orders"], snapshot_chunk_rows=100)
    store = OffsetStore(settings.kafka, settings.capture.offsets_topic, settings.capture.name)
    proc = CaptureProcess(settings, tmp_path)

    # ps_orders locked: the snapshot stops at stock's last chunk, where it asks whether the next
    # table has rows (is this row the snapshot's last?) — 19 chunks are committed by then
    locker = pymysql.connect(**scratch.stack.mysql_params(scratch.database), autocommit=True)
    with locker.cursor() as cur:
        cur.execute("LOCK TABLES ps_orders WRITE")
    try:
        proc.start()
        cut = wait_for_offset(store, lambda o: o.snapshot is not None and o.snapshot.chunks >= 19)
        status = run_cli("cdc", "status", "--json", "--config", str(proc.config))
        proc.kill()
    finally:
        with locker.cursor() as cur:
            cur.execute("UNLOCK TABLES")
        locker.close()
    assert not cut.snapshot_completed and cut.snapshot.chunks == 19
    assert cut.snapshot.table == "ps_stock_available" and cut.snapshot.after_key == (keys[1899],)
    assert cut.snapshot.rows == 1900
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["state"] == "snapshot in progress"
    assert report["snapshot_tables"] == {"ps_stock_available": "1900/2000 rows (95.0 %), reading",
                                         "ps_orders": "0/? rows, waiting"}
    assert report["snapshot_chunks"] == 19 and report["snapshot_after_key"] == [keys[1899]]

    # while the capture is down: changes on both sides of the cut
    scratch.sql("UPDATE ps_stock_available SET quantity=111 WHERE id_stock_available=1")
    scratch.sql(f"UPDATE ps_stock_available SET quantity=222 WHERE id_stock_available={keys[1950]}")
    scratch.sql(f"DELETE FROM ps_stock_available WHERE id_stock_available={keys[1990]}")
    scratch.sql(f"INSERT INTO ps_stock_available ({STOCK_COLUMNS}) VALUES (9000, 9000, 0, 1, 0, 9, 9, 0, 0, 2, '')")

    proc.start()
    try:
        wait_offset(settings, scratch.gtid_seq(), timeout=90)   # snapshot done, then the stream caught up
        proc.wait_running()
        scratch.sql("UPDATE ps_stock_available SET quantity=333 WHERE id_stock_available=2")
        scratch.sql(ORDER_INSERT.format(id=700))
        wait_offset(settings, scratch.gtid_seq(), timeout=60)
    finally:
        assert proc.terminate() == 0, proc.log.read_text()[-3000:]
    assert "resuming the snapshot at ps_stock_available" in proc.log.read_text()
    final = store.load()
    assert final.snapshot_completed and final.snapshot is None

    stock = read_topics(scratch, [scratch.topic("stock_available")], min_count=2000 + 6, timeout=60)
    kinds = [(e.value["op"] if e.value is not None else "tombstone", e.key["id_stock_available"],
              (e.value["after"] or {}).get("quantity") if e.value is not None else None) for e in stock]
    snap = [e for e in stock if e.value is not None and e.value["op"] == "r"]
    snap_keys = [e.key["id_stock_available"] for e in snap]
    assert len(snap_keys) == len(set(snap_keys)), "a row of the snapshot came twice"
    assert snap_keys == sorted(set(keys) - {keys[1990]} | {9000}), "a row of the snapshot is missing"
    # the 19 chunks before the kill, read at the first position; then the binlog from there up to
    # the restart's read view (the changes made while the capture was down); then the remaining
    # rows, read in that view; then streaming goes on
    assert all(k[0] == "r" for k in kinds[:1900])
    assert kinds[1900:1905] == [("u", 1, 111), ("u", keys[1950], 222), ("d", keys[1990], None),
                                ("tombstone", keys[1990], None), ("c", 9000, 9)]
    assert all(k[0] == "r" for k in kinds[1905:-1]) and len(kinds) == 1900 + 5 + 100 + 1
    assert kinds[-1] == ("u", 2, 333)
    assert {e.value["source"]["pos"] for e in snap[:1900]} == {cut.pos}
    (resumed_at,) = {e.value["source"]["pos"] for e in snap[1900:]}
    assert resumed_at != cut.pos
    # per key, commit order: the row read after the restart already has the change made before it
    assert [k for k in kinds if k[1] == keys[1950]][-2:] == [("u", keys[1950], 222), ("r", keys[1950], 222)]
    assert [k for k in kinds if k[1] == 9000] == [("c", 9000, 9), ("r", 9000, 9)]
    # each key's last event is its row now
    now = {r["id_stock_available"]: r["quantity"] for r in scratch.sql(
        "SELECT id_stock_available, quantity FROM ps_stock_available")}
    last = {key: quantity for _, key, quantity in kinds}
    assert {k: v for k, v in last.items() if v is not None} == now

    orders = read_topics(scratch, [scratch.topic("orders")], min_count=6, timeout=60)
    assert [e.value["op"] for e in orders] == ["r"] * 5 + ["c"]
    # Debezium's markers: once each across the crash
    marks = [e.value["source"]["snapshot"] for e in snap + orders[:5]]
    assert marks[0] == "first" and marks.count("first") == 1
    assert marks[-1] == "last" and marks.count("last") == 1
    assert [i for i, m in enumerate(marks) if m == "last_in_data_collection"] == [len(snap) - 1]
    assert [i for i, m in enumerate(marks) if m == "first_in_data_collection"] == [len(snap)]
    assert orders[-1].value["source"]["snapshot"] == "false"


def test_a_stop_request_ends_the_snapshot_between_chunks_and_the_next_run_resumes_it(scratch):
    settings = scratch.settings(["orders", "order_detail"], snapshot_chunk_rows=2)
    stop = threading.Event()
    first = Capture(settings, on_commit=lambda off, n: off.snapshot and off.snapshot.chunks == 2 and stop.set())
    first.prepare()
    try:
        stopped = first.snapshot(progress=False, stop=stop)
    finally:
        first.close()
    assert not stopped.snapshot_completed and stopped.snapshot.chunks == 2
    assert stopped.snapshot.table == "ps_orders" and stopped.snapshot.after_key == (4,)

    second = Capture(settings)
    second.prepare()
    try:
        assert second.committed == stopped
        done = second.snapshot(progress=False)
    finally:
        second.close()
    assert done.snapshot_completed and done.snapshot is None

    orders = read_topics(scratch, [scratch.topic("orders")], min_count=5)
    details = read_topics(scratch, [scratch.topic("order_detail")], min_count=7)
    assert [e.key["id_order"] for e in orders] == [1, 2, 3, 4, 5]
    assert len(details) == 7 and len({e.key["id_order_detail"] for e in details}) == 7
    assert [e.value["source"]["snapshot"] for e in orders + details] == [
        "first", "true", "true", "true", "last_in_data_collection",
        "first_in_data_collection", *["true"] * 5, "last"]


class Crash(Exception):
    pass


def test_a_crash_while_the_resumed_snapshot_catches_up_with_the_binlog_loses_and_repeats_nothing(scratch):
    settings = scratch.settings(["stock_available"], snapshot_chunk_rows=10, batch_max_events=1)
    stop = threading.Event()
    first = Capture(settings, on_commit=lambda off, n: off.snapshot and off.snapshot.chunks == 2 and stop.set())
    first.prepare()
    try:
        stopped = first.snapshot(progress=False, stop=stop)
    finally:
        first.close()
    assert stopped.snapshot.after_key == (20,)
    # while the capture is away: changes to rows written (1) and not yet read (50), one at a time
    written = []
    for n in range(6):
        row = (1, 50)[n % 2]
        scratch.sql(f"UPDATE ps_stock_available SET quantity={700 + n} WHERE id_stock_available={row}")
        written.append((row, 700 + n))

    def crash_in_catch_up(offset, events):
        if offset.snapshot is not None and offset.gtid != stopped.gtid:
            raise Crash(f"killed after catching up to {offset.gtid}")

    second = Capture(settings, on_commit=crash_in_catch_up)
    second.prepare()
    try:
        with pytest.raises(Crash):
            second.snapshot(progress=False)
        cut = second.committed
    finally:
        second.close()
    assert cut.gtid != stopped.gtid                 # some of the way to the new read view
    assert not cut.snapshot_completed and cut.snapshot.chunks == 2 and cut.snapshot.after_key == (20,)

    third = Capture(settings)
    third.prepare()
    try:
        done = third.snapshot(progress=False)
    finally:
        third.close()
    assert done.snapshot_completed

    events = read_topics(scratch, [scratch.topic("stock_available")], min_count=58 + 6)
    kinds = [(e.value["op"], e.key["id_stock_available"], e.value["after"]["quantity"]) for e in events]
    assert [k[1] for k in kinds if k[0] == "r"] == list(range(1, 59)), "snapshot rows lost or repeated"
    assert [(k[1], k[2]) for k in kinds if k[0] == "u"] == written, "changes lost, repeated or reordered"
    assert all(k[0] == "r" for k in kinds[:20]) and all(k[0] == "u" for k in kinds[20:26])
    assert kinds[26:] == [("r", i, kinds[26 + i - 21][2]) for i in range(21, 59)]
    assert ("r", 50, 705) in kinds                     # read after the changes: the value at its view
