"""ERP change capture from the real Tryton into the real Kafka: each change once, across restarts."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from pssync.erp.poller import ErpPoller
from pssync.erp.topics import topic_name
from tests.integration.erp.tryton_support import adapter, new_product, receive_stock, set_price

pytestmark = pytest.mark.integration


def poller_settings(scratch, stack):
    settings = scratch.settings()
    settings.erp.name = f"tryton-{scratch.tag}"
    settings.erp.topic_prefix = scratch.prefix
    settings.erp.offsets_topic = f"{scratch.prefix}.erp.offsets"
    settings.erp.poll_interval_s = 0.2
    settings.erp.kinds = ["stock", "price"]
    return settings


class Running:
    def __init__(self, settings, stack) -> None:
        self.poller = ErpPoller(settings, adapter(stack))
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.poller.run(self.stop)
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> "Running":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(30)
        self.poller.close()
        if self.error:
            raise self.error

    def wait_idle(self, seconds: float = 2.0) -> None:
        """Until a whole poll cycle has run after now."""
        time.sleep(seconds)
        if self.error:
            raise self.error


def until(read, predicate, timeout: float = 90):
    """Read again until the predicate holds (the poller may first be catching up on history)."""
    deadline = time.monotonic() + timeout
    events = read()
    while not predicate(events) and time.monotonic() < deadline:
        time.sleep(1)
        events = read()
    return events


def versions(events):
    return [e.value["version"] for e in events]


def test_stock_and_price_changes_arrive_once_and_survive_restarts(scratch, stack):
    settings = poller_settings(scratch, stack)
    stock_topic, price_topic = topic_name(scratch.prefix, "stock"), topic_name(scratch.prefix, "price")
    erp = adapter(stack)
    with Running(settings, stack) as running:
        running.wait_idle(3)
        history_stock = scratch.read_topic(stock_topic, min_count=1)
        history_price = scratch.read_topic(price_topic, min_count=1)
        first, second = new_product(erp, "20.00", variants=2)
        running.wait_idle()
        history_price = scratch.read_topic(price_topic, min_count=len(history_price) + 2)
        receive_stock(erp, first, 4)
        set_price(erp, Decimal("21.75"), first, second)  # one write: same timestamp
        until(lambda: scratch.read_topic(stock_topic, settle=0.3),
              lambda events: any(e.key["id"] == first for e in events))
        until(lambda: scratch.read_topic(price_topic, settle=0.3),
              lambda events: sum(e.key["id"] in (first, second) and e.value["list_price"] == Decimal("21.75")
                                 for e in events) >= 2)
        running.wait_idle()

    # the poller may have been catching up on other tests' history: look at our own products only
    stock = scratch.read_topic(stock_topic, min_count=len(history_stock) + 1)
    ours = [(e.key["id"], e.value["quantity"]) for e in stock if e.key["id"] in (first, second)]
    assert ours == [(first, Decimal(4))]
    assert all(e.value["mode"] == "delta" for e in stock)
    prices = scratch.read_topic(price_topic, min_count=len(history_price) + 2)
    repriced = sorted((e.key["id"], e.value["list_price"]) for e in prices
                      if e.key["id"] in (first, second) and e.value["list_price"] == Decimal("21.75"))
    assert repriced == [(first, Decimal("21.750000")), (second, Decimal("21.750000"))]
    assert len(set(versions(prices))) == len(prices), "a version was emitted twice"

    # stopped: a change made now is picked up by the next run, and nothing is repeated
    receive_stock(erp, first, 1)
    with Running(settings, stack) as running:
        after_restart = until(lambda: scratch.read_topic(stock_topic, settle=0.3),
                              lambda events: any(e.key["id"] == first and e.value["quantity"] == 5
                                                 for e in events))
        running.wait_idle()
    after_restart = scratch.read_topic(stock_topic, min_count=len(after_restart))
    assert [(e.key["id"], e.value["quantity"]) for e in after_restart
            if e.key["id"] in (first, second)] == [(first, Decimal(4)), (first, Decimal(5))]
    assert len(set(versions(after_restart))) == len(after_restart)
    assert len(set(versions(scratch.read_topic(price_topic, min_count=len(prices))))) >= len(prices)
    erp.close()


def test_full_stock_snapshot_is_marked_with_its_id_and_positions(scratch, stack):
    settings = poller_settings(scratch, stack)
    poller = ErpPoller(settings, adapter(stack))
    poller.prepare()
    snapshot_id = poller.snapshot_stock(page_size=10)
    poller.close()
    events = scratch.read_topic(topic_name(scratch.prefix, "stock"), min_count=47, settle=1.0)
    assert {e.value["snapshot_id"] for e in events} == {snapshot_id}
    assert [e.value["snapshot_position"] for e in events] == list(range(len(events)))
    assert {e.value["snapshot_total"] for e in events} == {len(events)}
    assert all(e.value["mode"] == "snapshot" for e in events)
