"""Checkouts and the shop sink on the same stock rows at once: the sink must never make a checkout
fail. PrestaShop's checkout runs statement by statement in autocommit (tests/integration/sinks/
checkout.py); when InnoDB finds a deadlock it rolls back the transaction with the fewer changes,
which is the checkout's statement, not a sink transaction holding a batch. So the sink takes the
rows in the checkout's order, keeps its transactions short, and is the side that retries."""
from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pymysql
import pytest
from confluent_kafka import Producer

from pssync.bus.kafka import ensure_topics
from pssync.schemas.commands import OrderStateCommand, StockCommand
from tests.integration.sinks.checkout import Checkout, Line, Placed
from tests.integration.sinks.test_prestashop_db import (
    SHOP_TOPIC,
    SinkThread,
    assert_product_level_is_sum,
    row,
    sink_settings,
    wait_offset,
)
from tests.integration.support import contracts

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
# a few hot rows: two simple products, two combinations of a small and of a large product. Each
# order is of one product: orders of several products make PrestaShop's recompute statements
# deadlock with each other under load, sink or not (measured without a sink, 16 threads: 12 of
# 640 checkouts), which is not what this test is about
ROWS = [(1, 1), (1, 2), (6, 0), (7, 0), (9, 22), (9, 23)]
THREADS, PER_THREAD = 8, 20
FINAL = {r: 4000 + 10 * i for i, r in enumerate(ROWS)}      # the ERP's last word per row


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _stock(r: tuple[int, int], quantity: int, since: dt.datetime) -> StockCommand:
    created = _now()
    return StockCommand(command_id=str(uuid.uuid4()), source_event_id=f"0-1-{uuid.uuid4().int % 10**12}",
                        created_at=created, sku=f"sku-{r[0]}-{r[1]}", id_shop=1, id_product=r[0],
                        id_product_attribute=r[1], quantity=quantity, erp_as_of=created, known_orders=(),
                        orders_since=since)


def _state(order: Placed, key: str) -> OrderStateCommand:
    return OrderStateCommand(command_id=str(uuid.uuid4()), source_event_id=f"erp-{uuid.uuid4().hex}",
                             created_at=_now(), id_order=order.id_order,
                             shop_reference=f"{order.reference}-{order.id_order}", state_key=key,
                             erp_state=key.lower(), changed_at=_now())


class Commands:
    """The ERP side: bursts of stock levels on the hot rows (as a stock recompute sends them), and
    the state changes of some of the new orders, produced to the shop-commands topic."""

    def __init__(self, settings: Any, since: dt.datetime) -> None:
        self.settings, self.since = settings, since
        self.topic = settings.streams.shop_commands_topic
        self.producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers,
                                  "enable.idempotence": True, "acks": "all", "linger.ms": 5})
        self.sent: list[Any] = []
        self.states: queue.Queue[OrderStateCommand] = queue.Queue()

    def send(self, command: Any) -> None:
        self.producer.produce(self.topic, key=command.kafka_key, value=contracts().encode(SHOP_TOPIC, command))
        self.sent.append(command)

    def stream(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for _ in range(40):
                self.send(_stock(random.choice(ROWS), random.randint(3000, 6000), self.since))
            while not self.states.empty():
                self.send(self.states.get())
            self.producer.flush(30)
            stop.wait(0.1)

    def flush(self) -> None:
        while not self.states.empty():
            self.send(self.states.get())
        assert self.producer.flush(30) == 0


def test_concurrent_checkouts_never_fail_while_the_sink_writes_their_stock(scratch):
    # the production batch window: the sink gathers what the burst brings into few transactions
    settings = sink_settings(scratch, batch_max_ms=200)
    since = _now() - dt.timedelta(seconds=2)
    ensure_topics(settings.kafka, {settings.streams.shop_commands_topic: {}})
    erp = Commands(settings, since)
    failures: list[tuple[int, str]] = []
    placed: list[Placed] = []
    cancelled: set[int] = set()
    lock = threading.Lock()

    def shop(n: int) -> None:
        checkout = Checkout(scratch.stack.mysql_params(), scratch.database)
        try:
            for _ in range(n):
                product = random.choice(sorted({p for p, _ in ROWS}))
                rows = sorted(random.sample([r for r in ROWS if r[0] == product], random.randint(1, 2 if product in (1, 9) else 1)))
                lines = [Line(p, a, random.randint(1, 3)) for p, a in rows]
                try:
                    order = checkout.place(lines)
                except pymysql.err.MySQLError as exc:
                    with lock:
                        failures.append((exc.args[0], checkout.statement.split(" SET ")[0][:60]))
                    continue
                fate = random.random()
                with lock:
                    placed.append(order)
                    if fate < 0.2:
                        cancelled.add(order.id_order)
                if fate < 0.2:
                    erp.states.put(_state(order, "PS_OS_CANCELED"))
                elif fate < 0.4:
                    erp.states.put(_state(order, "PS_OS_PAYMENT"))
        finally:
            checkout.close()

    with SinkThread(settings) as sink:
        for r in ROWS:                                    # the sink is up and has its tables
            erp.send(_stock(r, 5000, since))
        erp.flush()
        wait_offset(scratch, settings, len(erp.sent), timeout=60, failed=lambda: sink.error)

        stop = threading.Event()
        stream = threading.Thread(target=erp.stream, args=(stop,))
        stream.start()
        shoppers = [threading.Thread(target=shop, args=(PER_THREAD,)) for _ in range(THREADS)]
        started = time.monotonic()
        for t in shoppers:
            t.start()
        for t in shoppers:
            t.join(300)
        took = time.monotonic() - started
        stop.set()
        stream.join(60)
        erp.flush()
        for r in ROWS:
            erp.send(_stock(r, FINAL[r], since))
        erp.flush()
        wait_offset(scratch, settings, len(erp.sent), timeout=300, failed=lambda: sink.error)

    counters = sink.runner.counters
    print(f"\n{len(placed)} checkouts in {took:.1f}s, {len(failures)} failed {Counter(failures)}; sink: "
          f"{len(erp.sent)} commands, {counters.batches} transactions, {counters.retries} retries")
    assert not failures, f"{len(failures)} of {THREADS * PER_THREAD} checkouts failed: {Counter(failures)}"
    assert len(placed) == THREADS * PER_THREAD

    # every command acted once (applied, or skipped as stale) and was logged; none dead-lettered
    sent = {c.command_id for c in erp.sent}
    effects = scratch.sql("SELECT command_id, result FROM pssync_sync_effect")
    assert {r["command_id"] for r in effects} == sent
    assert all(not r["result"].startswith("skipped") or "stale" in r["result"] or "already" in r["result"]
               for r in effects)
    log = scratch.sql("SELECT command_id, outcome FROM pssync_sync_log WHERE outcome IN ('applied', 'skipped')")
    assert Counter(r["command_id"] for r in log) == Counter(sent)
    assert not scratch.sql("SELECT * FROM pssync_sync_log WHERE outcome='dead_letter'")

    # the stock: the ERP's last level less every order it had not seen and that still holds stock
    for r in ROWS:
        held = sum(line.quantity for o in placed if o.id_order not in cancelled for line in o.lines
                   if (line.id_product, line.id_product_attribute) == r)
        assert row(scratch, *r) == (FINAL[r] - held, held, FINAL[r]), r
    for product in {p for p, a in ROWS if a}:
        assert_product_level_is_sum(scratch, product)
