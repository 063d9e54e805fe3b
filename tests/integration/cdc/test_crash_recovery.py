"""Exactly-once under SIGKILL: the read_committed view equals the row changes made in MariaDB."""
from __future__ import annotations

import random
import threading
import time

import pymysql
import pytest

from tests.integration.cdc.test_capture_events import ORDER_INSERT
from tests.integration.support import CaptureProcess, CaptureThread, read_topics, wait_offset
from pssync.bus.kafka import Fenced

pytestmark = pytest.mark.integration


class Workload(threading.Thread):
    """Orders, multi-row order lines and a stock counter, each change recorded as it commits."""

    def __init__(self, scratch, seconds: float) -> None:
        super().__init__(daemon=True)
        self.scratch, self.seconds = scratch, seconds
        self.order_ids: list[int] = []
        self.detail_ids: list[int] = []
        self.quantities: list[int] = [300]     # ps_stock_available row 1 starts at 300 in the demo data
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            end = time.monotonic() + self.seconds
            n = 0
            while time.monotonic() < end:
                n += 1
                kind = n % 3
                if kind == 0:
                    self.scratch.sql(ORDER_INSERT.format(id=10_000 + n))
                    self.order_ids.append(10_000 + n)
                elif kind == 1:
                    q = 1000 + n
                    self.scratch.sql(f"UPDATE ps_stock_available SET quantity={q} WHERE id_stock_available=1")
                    self.quantities.append(q)
                else:
                    self.scratch.sql(
                        "INSERT INTO ps_order_detail (id_order_detail, id_order, id_shop, product_id, "
                        f"product_attribute_id, product_name, product_quantity) VALUES "
                        f"({20_000 + n}, 1, 1, 1, 1, 'line a', 1), ({30_000 + n}, 1, 1, 6, 0, 'line b', 2)")
                    self.detail_ids += [20_000 + n, 30_000 + n]
                time.sleep(random.uniform(0, 0.004))
        except BaseException as exc:
            self.error = exc


def assert_exactly_once(events, key: str, inserted: list[int], first_id: int) -> None:
    """Each inserted row appears: in the snapshot (if it was taken mid-workload) or as a create
    event, each at most once, and the create events follow commit order with no gap. (A row can be
    both: inserted while a killed snapshot was away, it is streamed before the snapshot, resumed,
    reads its table.)"""
    ids = [e.key[key] for e in events]
    created = [e.key[key] for e in events if e.value["op"] == "c"]
    read = [e.key[key] for e in events if e.value["op"] == "r"]
    assert len(created) == len(set(created)) and len(read) == len(set(read)), "duplicate event"
    assert {i for i in ids if i >= first_id} == set(inserted), "lost event"
    for ident in set(created) & set(read):          # then the create comes first, as committed
        assert [e.value["op"] for e in events if e.key[key] == ident] == ["c", "r"]
    assert created == inserted[len(inserted) - len(created):]


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(scratch, tmp_path):
    # small snapshot chunks: a kill can also land in the snapshot, which the next start resumes
    settings = scratch.settings(["orders", "order_detail", "stock_available"], batch_max_events=200,
                                snapshot_chunk_rows=10)
    proc = CaptureProcess(settings, tmp_path)
    work = Workload(scratch, seconds=18)
    proc.start()
    work.start()
    kills = 0
    while work.is_alive():
        time.sleep(random.uniform(0.4, 3.0))
        if proc.alive():
            proc.kill()
            kills += 1
        proc.start()
    work.join()
    assert work.error is None
    wait_offset(settings, scratch.gtid_seq(), timeout=90)
    proc.wait_running()          # the last one started may have had nothing left to commit
    assert proc.terminate() == 0, proc.log.read_text()[-3000:]
    assert kills >= 5

    orders = read_topics(scratch, [scratch.topic("orders")], min_count=5 + len(work.order_ids), timeout=60)
    assert_exactly_once(orders, "id_order", work.order_ids, 10_000)
    details = read_topics(scratch, [scratch.topic("order_detail")], min_count=7 + len(work.detail_ids), timeout=60)
    assert_exactly_once(details, "id_order_detail", work.detail_ids, 20_000)

    stock = read_topics(scratch, [scratch.topic("stock_available")], min_count=58, timeout=60)
    assert sorted(e.key["id_stock_available"] for e in stock if e.value["op"] == "r") == list(range(1, 59))
    assert all(e.value["op"] in ("r", "u") for e in stock)
    seen = [(e.value["op"], e.value["after"]["quantity"]) for e in stock if e.key["id_stock_available"] == 1]
    (at,) = [i for i, (op, _) in enumerate(seen) if op == "r"]
    if at > 0:    # read by a snapshot resumed after a kill, once the stream had caught up to its view
        assert seen[at][1] == seen[at - 1][1], "the snapshot row is not the value at its position"
        del seen[at]
    values = [q for _, q in seen]
    start = work.quantities.index(values[0])      # the snapshot may have been taken mid-workload
    assert values == work.quantities[start:], "gap or duplicate in the stock row's change sequence"


def test_second_instance_with_same_identity_fences_the_first(scratch):
    """The last line, when the name lock could not tell (test_identity.py): the first capture lost
    the connection holding its lock, so a second with the same name starts and fences it."""
    settings = scratch.settings(["stock_available"])
    first = CaptureThread(settings).__enter__()
    first.wait_committed(scratch.gtid_seq())
    lock_connection = first.capture.lock._conn.thread_id()
    root = pymysql.connect(host="127.0.0.1", port=scratch.stack.mariadb_port, user="root", autocommit=True)
    try:
        with root.cursor() as cur:
            cur.execute(f"KILL CONNECTION {lock_connection}")
    finally:
        root.close()
    other_replica = settings.model_copy(update={"mysql": settings.mysql.model_copy(
        update={"server_id": settings.mysql.server_id + 1})})
    second = CaptureThread(other_replica).__enter__()   # same name: init_transactions fences the first
    second.wait_committed(scratch.gtid_seq())
    scratch.sql("UPDATE ps_stock_available SET quantity=7 WHERE id_stock_available=2")
    second.wait_committed(scratch.gtid_seq())
    first.thread.join(30)
    assert isinstance(first.error, Fenced)
    first.error = None
    first.join()
    second.join()
    events = [e for e in scratch.read_topic(scratch.topic("stock_available"), min_count=59)
              if e.value["op"] != "r"]
    assert [(e.key["id_stock_available"], e.value["after"]["quantity"]) for e in events] == [(2, 7)]


class Crash(Exception):
    pass


def test_transaction_larger_than_a_batch_is_split_and_resumed_exactly_once(scratch):
    settings = scratch.settings(["stock_available"], batch_max_events=20)
    with CaptureThread(settings) as cap:            # initial snapshot, then idle
        cap.wait_committed(scratch.gtid_seq())
    # one source transaction of 1,500 new stock rows (several binlog rows events), then a small one
    rows = ", ".join(f"({1000 + i}, {5000 + i}, 0, 1, 0, {i}, {i}, 0, 0, 2, '')" for i in range(1500))
    scratch.sql("INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, "
                "id_shop, id_shop_group, quantity, physical_quantity, reserved_quantity, "
                f"depends_on_stock, out_of_stock, location) VALUES {rows}")
    scratch.sql("UPDATE ps_stock_available SET quantity = 7 WHERE id_stock_available = 1")

    def die_after_first_split(offset, events):
        if offset.partial_rows:
            raise Crash(f"killed after {offset.partial_rows} rows of {offset.partial_gtid}")

    crashing = CaptureThread(settings)
    crashing.capture.on_commit = die_after_first_split
    crashing.__enter__()
    crashing.thread.join(30)
    assert isinstance(crashing.error, Crash), crashing.error
    committed = crashing.capture.committed
    assert 0 < committed.partial_rows < 1500
    crashing.error = None
    crashing.join()

    with CaptureThread(settings) as cap:              # resumes inside the big transaction
        cap.wait_committed(scratch.gtid_seq())
        assert cap.capture.committed.partial_rows == 0

    events = scratch.read_topic(scratch.topic("stock_available"), min_count=58 + 1501, timeout=60)
    created = [e for e in events if e.value["op"] == "c"]
    assert [e.key["id_stock_available"] for e in created] == list(range(1000, 2500)), "lost or repeated rows"
    assert [e.value["transaction"]["total_order"] for e in created] == list(range(1, 1501))
    assert len({e.value["transaction"]["id"] for e in created}) == 1
    assert events[-1].key["id_stock_available"] == 1 and events[-1].value["after"]["quantity"] == 7
    # one BEGIN and one END for the split transaction, the END counting all its rows
    big_id = created[0].value["transaction"]["id"]
    markers = [e.value for e in read_topics(scratch, [f"{scratch.prefix}.transaction"], min_count=4)
               if e.key == {"id": big_id}]
    assert [(m["status"], m["event_count"]) for m in markers] == [("BEGIN", None), ("END", 1500)]
