"""The shop sink in database mode against the local stack: each command type on a scratch
PrestaShop database, the stock race with real checkouts, then the real runner over Kafka (sync
log, offsets, echo marker, dead letters, replays) and SIGKILLs of `pssync sink shop`."""
from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from pssync.bus.kafka import ensure_topics
from pssync.prestashop.database import connect
from pssync.devstack.shop import Line, place_order
from pssync.settings import Settings
from pssync.sinks.errors import PermanentFailure, Skipped
from pssync.sinks.prestashop_db import PrestashopDbApplier
from pssync.sinks.runner import SinkRunner
from tests.integration.sinks.support import RunnerThread
from pssync.schemas.commands import (
    OrderStateCommand,
    PriceCommand,
    ProductCommand,
    StockCommand,
    TrackingCommand,
    payload_hash,
)
from tests.integration.support import contracts

SHOP_TOPIC = "pssync-test.shop-commands"   # the subject the test's commands are registered under

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
REPO = Path(__file__).parents[3]
# a SIGKILLed consumer's group membership must expire quickly for the crash test's restarts
CLIENT_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


# ---- helpers ----------------------------------------------------------------------------------

def sink_settings(scratch, **sinks: Any) -> Settings:
    settings = scratch.settings()
    settings.streams.shop_commands_topic = f"{scratch.prefix}.commands.shop"
    settings.sinks.dead_letter_topic = f"{scratch.prefix}.sinks.dead-letter"
    settings.sinks.batch_max_ms = 50
    settings.sinks.retry_max_s = 2
    for key, value in sinks.items():
        setattr(settings.sinks, key, value)
    settings.kafka.client_config = dict(CLIENT_CONFIG)
    return settings


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def sid() -> str:
    return f"0-1-{uuid.uuid4().int % 10**12}"


def stock(sku: str, id_product: int, attr: int, quantity: int, *, created: dt.datetime | None = None,
          known: tuple[int, ...] = (), since: dt.datetime | None = None) -> StockCommand:
    created = created or now()
    return StockCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=created, sku=sku,
                        id_shop=1, id_product=id_product, id_product_attribute=attr, quantity=quantity,
                        erp_as_of=created, known_orders=known,
                        orders_since=since or created - dt.timedelta(minutes=10))


def price(sku: str, id_product: int, attr: int, value: str) -> PriceCommand:
    return PriceCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=now(), sku=sku,
                        id_shop=1, id_product=id_product, id_product_attribute=attr, price=Decimal(value),
                        changed_at=now())


_references: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _order_references(request):
    """Commands name the order by its ERP shop reference "<reference>-<id_order>", which the sink
    checks against ps_orders: look the reference up in the test's scratch database."""
    if "scratch" in request.fixturenames:
        scratch = request.getfixturevalue("scratch")
        _references["lookup"] = lambda id_order: (scratch.sql(
            "SELECT reference FROM ps_orders WHERE id_order=%s", args=(id_order,)) or [{"reference": "NONE"}]
        )[0]["reference"]
    yield
    _references.clear()


def ref(id_order: int) -> str:
    lookup = _references.get("lookup")
    return f"{lookup(id_order) if lookup else 'NONE'}-{id_order}"


def state(id_order: int, key: str, source_event_id: str | None = None) -> OrderStateCommand:
    return OrderStateCommand(command_id=str(uuid.uuid4()), source_event_id=source_event_id or sid(),
                             created_at=now(), id_order=id_order, shop_reference=ref(id_order),
                             state_key=key, erp_state=key.lower(), changed_at=now())


def tracking(id_order: int, number: str) -> TrackingCommand:
    return TrackingCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=now(),
                           id_order=id_order, shop_reference=ref(id_order), tracking_number=number,
                           changed_at=now())


def apply(settings: Settings, applier: PrestashopDbApplier, command: Any,
          conn: pymysql.connections.Connection | None = None) -> str | None:
    """One command in one transaction, as the runner does it (without the bookkeeping)."""
    own = conn is None
    conn = conn or connect(settings.mysql)
    try:
        if own:
            conn.autocommit(False)
            conn.begin()
        result = applier.apply(conn, command)
        applier.before_commit()
        conn.commit()
        return result
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def row(scratch, id_product: int, attr: int) -> tuple[int, int, int]:
    r = scratch.sql("SELECT quantity, reserved_quantity, physical_quantity FROM ps_stock_available "
                    f"WHERE id_product={id_product} AND id_product_attribute={attr} AND id_shop=1")[0]
    return r["quantity"], r["reserved_quantity"], r["physical_quantity"]


def assert_product_level_is_sum(scratch, id_product: int) -> None:
    rows = scratch.sql("SELECT id_product_attribute AS a, quantity AS q, reserved_quantity AS r, "
                       f"physical_quantity AS p FROM ps_stock_available WHERE id_product={id_product} AND id_shop=1")
    combos = [r for r in rows if r["a"]]
    top = next(r for r in rows if not r["a"])
    assert (top["q"], top["r"], top["p"]) == (sum(r["q"] for r in combos), sum(r["r"] for r in combos),
                                              sum(r["p"] for r in combos))
    assert all(r["p"] == r["q"] + r["r"] for r in rows)


def order(scratch, id_product: int, attr: int, quantity: int, state_key: str = "PS_OS_CHEQUE") -> int:
    return place_order(scratch.stack.mysql_params(), scratch.database, "ps_",
                       [Line(id_product, attr, quantity)], state_key=state_key)


def history(scratch, id_order: int) -> list[int]:
    return [r["id_order_state"] for r in scratch.sql(
        f"SELECT id_order_state FROM ps_order_history WHERE id_order={id_order} ORDER BY id_order_history")]


@pytest.fixture()
def settings(scratch) -> Settings:
    return sink_settings(scratch)


@pytest.fixture()
def applier(settings):
    instance = PrestashopDbApplier(settings)
    yield instance
    instance.close()


# ---- stock ------------------------------------------------------------------------------------

def test_stock_on_a_simple_product_keeps_reserved_and_sets_physical(scratch, settings, applier):
    assert apply(settings, applier, stock("demo_11", 6, 0, 120)) == "quantity 120 (computed 120, 0 unseen ordered)"
    assert row(scratch, 6, 0) == (120, 0, 120)
    apply(settings, applier, stock("demo_13", 8, 0, 50))        # one unit reserved by open order 2
    assert row(scratch, 8, 0) == (50, 1, 51)


def test_stock_on_a_combination_rewrites_the_product_level_row_as_the_sum(scratch, settings, applier):
    apply(settings, applier, stock("demo_5-18", 4, 18, 100))    # 2 reserved by order 2 (from 2024: not unseen)
    assert row(scratch, 4, 18) == (100, 2, 102)
    assert row(scratch, 4, 0) == (700, 2, 702)
    assert_product_level_is_sum(scratch, 4)


def test_missing_stock_row_and_product_level_row_of_combinations_are_refused(settings, applier):
    with pytest.raises(PermanentFailure, match=r"no ps_stock_available row \(id_product 4, id_product_attribute 99"):
        apply(settings, applier, stock("nope", 4, 99, 1))
    with pytest.raises(PermanentFailure, match="product-level row of a product with combinations"):
        apply(settings, applier, stock("demo_5", 4, 0, 1))


def test_the_race_an_order_unknown_to_the_processor_is_subtracted_a_known_one_is_not(scratch, settings, applier):
    since = now() - dt.timedelta(seconds=2)
    known = order(scratch, 1, 3, 2)                    # counted by the processor in its 50
    assert row(scratch, 1, 3) == (298, 2, 300)
    command = stock("demo_1-3", 1, 3, 50, known=(known,), since=since)
    order(scratch, 1, 3, 3)                            # checkout after the command was computed
    cancelled = order(scratch, 1, 3, 4)                # ... and one that was cancelled since
    scratch.sql(f"UPDATE ps_orders SET current_state=6 WHERE id_order={cancelled}")
    assert apply(settings, applier, command) == "quantity 47 (computed 50, 3 unseen ordered)"
    assert row(scratch, 1, 3)[0] == 47
    assert row(scratch, 1, 0)[0] == 7 * 300 + 47
    assert_product_level_is_sum(scratch, 1)


def test_the_race_a_checkout_committed_after_the_transaction_snapshot_is_subtracted(scratch, settings, applier):
    """The runner's transaction has read before (its snapshot predates the checkout)."""
    command = stock("demo_1-4", 1, 4, 50)
    conn = connect(settings.mysql)
    conn.autocommit(False)
    conn.begin()
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ps_orders")     # the snapshot is taken here
    order(scratch, 1, 4, 3)
    assert apply(settings, applier, command, conn) == "quantity 47 (computed 50, 3 unseen ordered)"
    assert row(scratch, 1, 4)[0] == 47


def test_the_race_a_checkout_in_flight_decrements_after_the_write(scratch, settings, applier):
    """A checkout that has written its order but not yet the stock decrements on top of the
    level written; one holding the stock row makes the sink wait, then is subtracted."""
    checkout = pymysql.connect(**scratch.stack.mysql_params(scratch.database), autocommit=False)
    with checkout.cursor() as cur:
        cur.execute("SET sql_mode=''")
        cur.execute("INSERT INTO ps_orders (reference, id_shop_group, id_shop, current_state, payment, date_add, "
                    "date_upd) VALUES ('INFLIGHT', 1, 1, 1, 'check', UTC_TIMESTAMP(), UTC_TIMESTAMP())")
        id_order = cur.lastrowid
        cur.execute("INSERT INTO ps_order_detail (id_order, id_shop, product_id, product_attribute_id, "
                    f"product_name, product_quantity) VALUES ({id_order}, 1, 1, 5, 'x', 4)")
    apply(settings, applier, stock("demo_1-5", 1, 5, 50))     # does not wait: the stock row is free
    with checkout.cursor() as cur:
        cur.execute("UPDATE ps_stock_available SET quantity=quantity-4, reserved_quantity=reserved_quantity+4, "
                    "physical_quantity=physical_quantity WHERE id_product=1 AND id_product_attribute IN (0, 5)")
    checkout.commit()
    assert row(scratch, 1, 5)[0] == 46

    with checkout.cursor() as cur:             # a second checkout, holding the rows when the sink comes
        cur.execute("INSERT INTO ps_orders (reference, id_shop_group, id_shop, current_state, payment, date_add, "
                    "date_upd) VALUES ('INFLIGHT2', 1, 1, 1, 'check', UTC_TIMESTAMP(), UTC_TIMESTAMP())")
        id_order = cur.lastrowid
        cur.execute("INSERT INTO ps_order_detail (id_order, id_shop, product_id, product_attribute_id, "
                    f"product_name, product_quantity) VALUES ({id_order}, 1, 1, 5, 'x', 2)")
        cur.execute("UPDATE ps_stock_available SET quantity=quantity-2 WHERE id_product=1 "
                    "AND id_product_attribute IN (0, 5)")
    results: list[Any] = []
    sink = threading.Thread(target=lambda: results.append(apply(settings, applier, stock(
        "demo_1-5", 1, 5, 30, since=now() - dt.timedelta(seconds=5), known=()))))
    sink.start()
    time.sleep(0.5)
    assert sink.is_alive(), "the sink must wait for the checkout's stock lock"
    checkout.commit()
    checkout.close()
    sink.join(10)
    # both in-flight orders are newer than `since` and unknown: 30 - 4 - 2
    assert results == ["quantity 24 (computed 30, 6 unseen ordered)"]
    assert row(scratch, 1, 5)[0] == 24
    assert_product_level_is_sum(scratch, 1)


def test_a_stale_stock_command_is_skipped(scratch, settings, applier):
    t = now()
    apply(settings, applier, stock("demo_11", 6, 0, 40, created=t))
    with pytest.raises(Skipped, match="stale"):
        apply(settings, applier, stock("demo_11", 6, 0, 80, created=t - dt.timedelta(seconds=5)))
    assert row(scratch, 6, 0) == (40, 0, 40)
    apply(settings, applier, stock("demo_11", 6, 0, 60, created=t + dt.timedelta(seconds=5)))
    assert row(scratch, 6, 0) == (60, 0, 60)


# ---- price ------------------------------------------------------------------------------------

def test_product_active_flag_follows_the_erp(scratch, settings, applier):
    def product(active: bool, id_product: int = 6) -> ProductCommand:
        return ProductCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=now(), sku="demo_11",
                              id_shop=1, id_product=id_product, active=active, changed_at=now())
    assert apply(settings, applier, product(False)) == "active 0"
    assert scratch.sql("SELECT p.active AS a, s.active AS b FROM ps_product p JOIN ps_product_shop s "
                       "USING (id_product) WHERE id_product=6 AND s.id_shop=1")[0] == {"a": 0, "b": 0}
    with pytest.raises(Skipped):
        apply(settings, applier, product(False))
    with pytest.raises(PermanentFailure, match="no ps_product row"):
        apply(settings, applier, product(True, id_product=999))


def test_an_older_erp_price_never_undoes_a_newer_one(scratch, settings, applier):
    newer, older = price("demo_11", 6, 0, "14"), price("demo_11", 6, 0, "13")
    older = older.model_copy(update={"changed_at": newer.changed_at - dt.timedelta(minutes=5)})
    assert apply(settings, applier, newer) == "price 14.000000"
    with pytest.raises(Skipped, match="stale price"):
        apply(settings, applier, older)                      # e.g. a dead letter replayed late
    again = price("demo_11", 6, 0, "14").model_copy(update={"changed_at": newer.changed_at})
    scratch.sql("UPDATE ps_product SET price = 9 WHERE id_product = 6")
    assert apply(settings, applier, again) == "price 14.000000"   # a re-assert of the same ERP change
    assert scratch.sql("SELECT price FROM ps_product WHERE id_product=6")[0]["price"] == Decimal("14")


def test_price_on_a_product_and_on_a_combination(scratch, settings, applier):
    assert apply(settings, applier, price("demo_11", 6, 0, "12.5")) == "price 12.500000"
    assert scratch.sql("SELECT p.price AS a, s.price AS b FROM ps_product p JOIN ps_product_shop s "
                       "USING (id_product) WHERE id_product=6 AND s.id_shop=1")[0] == {"a": Decimal("12.5"),
                                                                                     "b": Decimal("12.5")}
    with pytest.raises(Skipped):
        apply(settings, applier, price("demo_11", 6, 0, "12.500"))

    # the combination's impact is relative to the shop's base price (29.00 for poster 3)
    assert apply(settings, applier, price("demo_6-14", 3, 14, "55")).startswith("impact 26.000000")
    assert scratch.sql("SELECT a.price AS a, s.price AS b FROM ps_product_attribute a JOIN ps_product_attribute_shop s "
                       "USING (id_product_attribute) WHERE id_product_attribute=14")[0] == {"a": Decimal(26),
                                                                                          "b": Decimal(26)}
    with pytest.raises(Skipped):
        apply(settings, applier, price("demo_6-14", 3, 14, "55.00"))
    with pytest.raises(PermanentFailure, match="no ps_product_attribute row"):
        apply(settings, applier, price("x", 4, 14, "1"))           # combination 14 is product 3's
    with pytest.raises(PermanentFailure, match="no ps_product row"):
        apply(settings, applier, price("x", 999, 0, "1"))


# ---- order state ------------------------------------------------------------------------------

def test_order_state_adds_history_and_moves_the_order(scratch, settings, applier):
    before = scratch.sql("SELECT date_upd FROM ps_orders WHERE id_order=4")[0]["date_upd"]
    assert apply(settings, applier, state(4, "PS_OS_PAYMENT")) == "state 1 -> 2 (PS_OS_PAYMENT)"
    assert history(scratch, 4) == [1, 2]
    last = scratch.sql("SELECT id_employee, date_add FROM ps_order_history WHERE id_order=4 "
                       "ORDER BY id_order_history DESC LIMIT 1")[0]
    assert last["id_employee"] == 0 and abs(last["date_add"] - dt.datetime.utcnow()) < dt.timedelta(minutes=1)
    o = scratch.sql("SELECT current_state, valid, date_upd FROM ps_orders WHERE id_order=4")[0]
    assert (o["current_state"], o["valid"]) == (2, 1) and o["date_upd"] > before
    assert row(scratch, 16, 29) == (300, 1, 301)                 # paid: still reserved, nothing moves

    with pytest.raises(Skipped, match="already in PS_OS_PAYMENT"):
        apply(settings, applier, state(4, "PS_OS_PAYMENT"))
    apply(settings, applier, state(4, "PS_OS_PREPARATION"))
    with pytest.raises(Skipped, match="was already in PS_OS_PAYMENT"):
        apply(settings, applier, state(4, "PS_OS_PAYMENT"))
    assert history(scratch, 4) == [1, 2, 3]

    with pytest.raises(PermanentFailure, match="no order 999"):
        apply(settings, applier, state(999, "PS_OS_PAYMENT"))
    with pytest.raises(PermanentFailure, match="PS_OS_NOPE is not set"):
        apply(settings, applier, state(4, "PS_OS_NOPE"))


def test_order_state_resolves_the_shop_specific_configuration(scratch, settings, applier):
    scratch.sql("INSERT INTO ps_configuration (id_shop_group, id_shop, name, value, date_add, date_upd) "
                "VALUES (NULL, 1, 'PS_OS_PREPARATION', '11', NOW(), NOW())")
    apply(settings, applier, state(4, "PS_OS_PREPARATION"))
    assert history(scratch, 4) == [1, 11]


def test_stock_follows_the_order_through_payment_shipping_cancel_and_reinstatement(scratch, settings):
    """The stock arithmetic of every transition, including those out of a cancelled state, which
    only an installation that gives the ERP those states (sinks.shop_owned_states empty) lets through."""
    settings = settings.model_copy(update={"sinks": settings.sinks.model_copy(update={"shop_owned_states": []})})
    applier = PrestashopDbApplier(settings)
    try:
        _transitions(scratch, settings, applier)
    finally:
        applier.close()


def _transitions(scratch, settings, applier) -> None:
    id_order = order(scratch, 1, 2, 3)
    assert row(scratch, 1, 2) == (297, 3, 300)
    apply(settings, applier, state(id_order, "PS_OS_PAYMENT"))
    assert row(scratch, 1, 2) == (297, 3, 300)
    apply(settings, applier, state(id_order, "PS_OS_SHIPPING"))     # shipped: no longer reserved
    assert row(scratch, 1, 2) == (297, 0, 297)
    assert_product_level_is_sum(scratch, 1)

    cancelled = order(scratch, 1, 6, 2)                             # paid, then cancelled: given back
    apply(settings, applier, state(cancelled, "PS_OS_PAYMENT"))
    apply(settings, applier, state(cancelled, "PS_OS_CANCELED"))
    assert row(scratch, 1, 6) == (300, 0, 300)
    o = scratch.sql(f"SELECT current_state, valid FROM ps_orders WHERE id_order={cancelled}")[0]
    assert (o["current_state"], o["valid"]) == (6, 0)

    unpaid = order(scratch, 1, 7, 1)                                # awaiting payment, then cancelled
    apply(settings, applier, state(unpaid, "PS_OS_CANCELED"))
    assert row(scratch, 1, 7) == (300, 0, 300)
    apply(settings, applier, state(unpaid, "PS_OS_ERROR"))          # canceled -> error: nothing twice
    assert row(scratch, 1, 7) == (300, 0, 300)

    apply(settings, applier, state(4, "PS_OS_CANCELED"))            # demo order 4: 1 x 16/29
    assert row(scratch, 16, 29) == (301, 0, 301)
    apply(settings, applier, state(3, "PS_OS_PAYMENT"))             # demo order 3 (payment error) reinstated
    assert row(scratch, 16, 28) == (299, 1, 300)
    assert_product_level_is_sum(scratch, 16)
    assert_product_level_is_sum(scratch, 1)


def test_an_erp_state_never_takes_an_order_out_of_a_state_the_shop_owns(scratch, settings, applier):
    """The shop cancelled the order after it went to the ERP; the ERP's 'processing' (PS_OS_PREPARATION)
    comes back later: the order stays cancelled and its stock given back is not reserved again."""
    id_order = order(scratch, 1, 2, 3, state_key="PS_OS_PAYMENT")
    apply(settings, applier, state(id_order, "PS_OS_CANCELED"))     # as the shop does it, stock and all
    assert row(scratch, 1, 2) == (300, 0, 300)
    with pytest.raises(Skipped, match="in PS_OS_CANCELED .6., which the shop owns"):
        apply(settings, applier, state(id_order, "PS_OS_PREPARATION"))
    assert history(scratch, id_order) == [2, 6] and row(scratch, 1, 2) == (300, 0, 300)
    # the cancel's history row is in, its ps_orders update not yet (two statements in PrestaShop)
    paid = order(scratch, 1, 6, 2, state_key="PS_OS_PAYMENT")
    scratch.sql(f"INSERT INTO ps_order_history (id_employee, id_order, id_order_state, date_add) "
                f"VALUES (0, {paid}, 6, NOW())")
    with pytest.raises(Skipped, match="which the shop owns"):
        apply(settings, applier, state(paid, "PS_OS_PREPARATION"))
    with pytest.raises(Skipped, match="already in PS_OS_CANCELED"):   # the ERP cancelled it too
        apply(settings, applier, state(id_order, "PS_OS_CANCELED"))


def test_a_cancel_in_the_same_transaction_is_seen_by_a_later_stock_command(scratch, settings, applier):
    since = now() - dt.timedelta(seconds=2)
    id_order = order(scratch, 1, 8, 5)
    conn = connect(settings.mysql)
    conn.autocommit(False)
    conn.begin()
    applier.apply(conn, state(id_order, "PS_OS_CANCELED"))
    assert apply(settings, applier, stock("demo_1-8", 1, 8, 40, since=since), conn) \
        == "quantity 40 (computed 40, 0 unseen ordered)"
    assert row(scratch, 1, 8) == (40, 0, 40)


# ---- tracking ---------------------------------------------------------------------------------

def test_tracking_goes_on_the_latest_order_carrier_row(scratch, settings, applier):
    scratch.sql("INSERT INTO ps_order_carrier (id_order, id_carrier, tracking_number, date_add) "
                "VALUES (2, 1, NULL, NOW())")
    assert apply(settings, applier, tracking(2, "TRK-1")).startswith("tracking TRK-1 on order_carrier 6")
    rows = scratch.sql("SELECT id_order_carrier, tracking_number FROM ps_order_carrier WHERE id_order=2 "
                       "ORDER BY id_order_carrier")
    assert [r["tracking_number"] for r in rows] == [None, "TRK-1"]
    with pytest.raises(Skipped):
        apply(settings, applier, tracking(2, "TRK-1"))
    with pytest.raises(PermanentFailure, match="no order 999 .* in ps_orders"):
        apply(settings, applier, tracking(999, "TRK-2"))
    scratch.sql("DELETE FROM ps_order_carrier WHERE id_order=3")
    with pytest.raises(PermanentFailure, match="no ps_order_carrier row for order 3"):
        apply(settings, applier, tracking(3, "TRK-3"))
    wrong = tracking(2, "TRK-4").model_copy(update={"shop_reference": "OTHERCHANNEL-2"})
    with pytest.raises(PermanentFailure, match="does not belong to shop order 2"):
        apply(settings, applier, wrong)


# ---- through the runner -----------------------------------------------------------------------

def produce(settings: Settings, values: list[tuple[bytes | None, bytes | None]]) -> None:
    ensure_topics(settings.kafka, {settings.streams.shop_commands_topic: {}})
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True,
                         "acks": "all"})
    for key, value in values:
        producer.produce(settings.streams.shop_commands_topic, key=key, value=value)
    assert producer.flush(30) == 0


def commands_out(*commands: Any) -> list[tuple[bytes, bytes]]:
    return [(c.kafka_key, contracts().encode(SHOP_TOPIC, c)) for c in commands]


def state_conn(settings: Settings):
    return lambda: connect(settings.mysql, database=settings.sinks.state_database)


def stored_offset(scratch, settings: Settings) -> int:
    try:
        rows = scratch.sql("SELECT next_offset FROM pssync_sink_offset WHERE sink=%s AND topic=%s",
                           args=(f"shop-db-{settings.capture.name}", settings.streams.shop_commands_topic))
    except pymysql.err.ProgrammingError:      # the sink has not created its tables yet
        return 0
    return rows[0]["next_offset"] if rows else 0


def wait_offset(scratch, settings: Settings, end: int, timeout: float = 30, failed=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if failed():
            raise failed()
        if stored_offset(scratch, settings) >= end:
            return
        time.sleep(0.05)
    raise TimeoutError(f"sink did not store offset {end} in {timeout}s (at {stored_offset(scratch, settings)})")


class SinkThread(RunnerThread):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, PrestashopDbApplier(settings), state_conn(settings))

def dead_letters(settings: Settings, min_count: int, timeout: float = 20) -> list:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.auto.commit": False,
                         "group.id": f"reader-{uuid.uuid4().hex}", "isolation.level": "read_committed"})
    consumer.assign([TopicPartition(settings.sinks.dead_letter_topic, 0, 0)])
    found, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < min_count:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                raise RuntimeError(str(msg.error()))
            found.append(msg)
    finally:
        consumer.close()
    return found


def sync_log(scratch) -> list[dict[str, Any]]:
    return scratch.sql("SELECT * FROM pssync_sync_log ORDER BY id")


def test_runner_applies_logs_dead_letters_and_replays_as_duplicates(scratch, settings):
    paid = state(4, "PS_OS_PAYMENT", source_event_id="erp-v1")
    good = [stock("demo_1-1", 1, 1, 90), price("demo_11", 6, 0, "13.10"), paid, tracking(4, "TRK-9")]
    records = commands_out(*good[:2])
    records.append((b"junk", b'{"type": "stock", "sku": 1}'))                  # malformed: dead letter
    records += commands_out(*good[2:])
    records.append((paid.kafka_key, contracts().encode(SHOP_TOPIC, paid)))      # delivered twice
    records += commands_out(state(999, "PS_OS_PAYMENT"))                       # unknown order: dead letter
    produce(settings, records)
    end = len(records)

    with SinkThread(settings) as sink:
        wait_offset(scratch, settings, end, failed=lambda: sink.error)
    assert sink.runner.counters.applied == 4 and sink.runner.counters.duplicate == 1
    assert sink.runner.counters.dead_letter == 2

    assert row(scratch, 1, 1) == (90, 0, 90)
    assert_product_level_is_sum(scratch, 1)
    assert scratch.sql("SELECT price FROM ps_product_shop WHERE id_product=6")[0]["price"] == Decimal("13.1")
    assert history(scratch, 4) == [1, 2]
    assert scratch.sql("SELECT tracking_number FROM ps_order_carrier WHERE id_order=4")[0]["tracking_number"] == "TRK-9"

    log = sync_log(scratch)
    applied = [r for r in log if r["outcome"] == "applied"]
    assert [(r["command_id"], r["payload_hash"]) for r in applied] == \
        [(c.command_id, payload_hash(contracts().encode(SHOP_TOPIC, c))) for c in good]
    assert all(r["sink"] == f"shop-db-{settings.capture.name}" and r["direction"] == "to_shop" for r in log)
    assert [r["kafka_offset"] for r in log if r["outcome"] == "dead_letter"] == [2, 6]
    assert [r["kafka_offset"] for r in log if r["outcome"] == "duplicate"] == [5]
    assert scratch.sql("SELECT COUNT(*) AS n FROM pssync_sync_effect")[0]["n"] == 4
    echo = scratch.sql("SELECT batches FROM pssync_echo WHERE sink=%s", args=(f"shop-db-{settings.capture.name}",))
    assert echo and echo[0]["batches"] >= 1

    dlq = dead_letters(settings, 2)
    assert [m.value() for m in dlq] == [records[2][1], records[6][1]]
    headers = dict(dlq[0].headers())
    assert headers["__connect.errors.exception.message"].decode().startswith("not Avro in the Confluent wire format")
    assert headers["__connect.errors.offset"] == b"2"
    assert b"no order 999" in dict(dlq[1].headers())["__connect.errors.exception.message"]

    # replaying the window: every applied command is a duplicate, nothing changes
    snapshot = scratch.sql("SELECT * FROM ps_stock_available ORDER BY id_stock_available")
    replay = PrestashopDbApplier(settings)
    seen = SinkRunner(settings, replay, state_conn(settings)).run_range(
        settings.streams.shop_commands_topic, 0, 0, end, threading.Event())
    replay.close()
    assert seen == end
    log = sync_log(scratch)[len(log):]
    assert sorted(r["command_id"] for r in log if r["outcome"] == "duplicate") == \
        sorted([c.command_id for c in good] + [paid.command_id])
    assert not [r for r in log if r["outcome"] == "applied"]
    assert scratch.sql("SELECT * FROM ps_stock_available ORDER BY id_stock_available") == snapshot
    assert history(scratch, 4) == [1, 2]
    assert stored_offset(scratch, settings) == end


# ---- crash ------------------------------------------------------------------------------------

ORDERED = [(9, 22), (9, 23), (10, 24), (11, 26), (11, 27), (6, 0), (7, 0)]     # nothing reserved in the demo data
STOCKED = [(17, 32), (17, 33), (17, 34), (17, 35)]


class SinkProcess:
    """`pssync sink shop` in a child process, as an operator runs it."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.config = workdir / "sink.yaml"
        self.config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
        self.log = workdir / "sink.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "pssync", "sink", "shop", "--config", str(self.config)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def test_sigkill_at_random_moments_applies_every_command_exactly_once(scratch, tmp_path):
    settings = sink_settings(scratch, batch_max_commands=4)
    orders = [order(scratch, *ORDERED[i % len(ORDERED)], 1) for i in range(35)]
    t0 = now()
    per_order = [[state(o, "PS_OS_PAYMENT"), state(o, "PS_OS_PREPARATION"), tracking(o, f"TRK{o}"),
                  state(o, "PS_OS_SHIPPING")] for o in orders]                         # 140
    levels = {p: [random.randint(0, 500) for _ in range(40)] for p in STOCKED}      # 160
    per_stock = [[stock(f"s{p}", *p, q, created=t0 + dt.timedelta(seconds=i), since=t0)
                  for i, q in enumerate(qs)] for p, qs in levels.items()]
    streams = per_order + per_stock
    commands = []
    while any(streams):                 # interleave, keeping the order within each stream
        s = random.choice([s for s in streams if s])
        commands.append(s.pop(0))
    assert len(commands) == 300
    produce(settings, commands_out(*commands))

    sink = SinkProcess(settings, tmp_path)
    sink.start()
    kills = 0
    for low, high in ((20, 80), (110, 170), (200, 260)):
        at = random.randint(low, high)
        deadline = time.monotonic() + 40
        while stored_offset(scratch, settings) < at:
            assert time.monotonic() < deadline and sink.alive(), sink.log.read_text()[-3000:]
            time.sleep(0.005)
        time.sleep(random.uniform(0, 0.03))      # anywhere in a batch: before, during or after its commit
        sink.kill()
        kills += 1
        assert stored_offset(scratch, settings) < 300, "finished before the kill: slow the sink down"
        sink.start()
    wait_offset(scratch, settings, 300, timeout=60, failed=lambda: None if sink.alive() else
                RuntimeError(sink.log.read_text()[-3000:]))
    assert sink.terminate() == 0, sink.log.read_text()[-3000:]
    assert kills == 3

    # every command acted exactly once
    assert stored_offset(scratch, settings) == 300
    effects = scratch.sql("SELECT command_id FROM pssync_sync_effect")
    assert sorted(r["command_id"] for r in effects) == sorted(c.command_id for c in commands)
    acted = scratch.sql("SELECT command_id, COUNT(*) AS n FROM pssync_sync_log WHERE outcome IN "
                        "('applied', 'skipped') GROUP BY command_id")
    assert len(acted) == 300 and all(r["n"] == 1 for r in acted)
    assert not scratch.sql("SELECT * FROM pssync_sync_log WHERE outcome IN ('dead_letter', 'skipped')")
    for o in orders:
        assert history(scratch, o) == [1, 2, 3, 4]
    rows = scratch.sql("SELECT id_order, tracking_number FROM ps_order_carrier WHERE id_order>=%s",
                       args=(orders[0],))
    assert {r["id_order"]: r["tracking_number"] for r in rows} == {o: f"TRK{o}" for o in orders}
    for p in ORDERED:                      # placed (-1 quantity, +1 reserved), then shipped (-1 reserved)
        n = sum(1 for i in range(35) if ORDERED[i % len(ORDERED)] == p)
        assert row(scratch, *p) == (300 - n, 0, 300 - n)
    for p, qs in levels.items():
        assert row(scratch, *p) == (qs[-1], 0, qs[-1])
    for product in (9, 10, 11, 17):
        assert_product_level_is_sum(scratch, product)


def test_a_restarted_sink_takes_its_partitions_back_at_once_and_a_second_one_fences_it(scratch, tmp_path):
    """A sink is a static member of its group (sinks.instance_id, default the host name): after a
    SIGKILL (or a broker outage longer than the session timeout) it rejoins as itself. As a new
    member it would wait for the lost one to expire: here a session of 300 s, which the test's
    bounds are far below."""
    settings = sink_settings(scratch)
    settings.kafka.client_config = {"session.timeout.ms": 300_000, "heartbeat.interval.ms": 3000}
    first, second = (order(scratch, *ORDERED[i], 1) for i in range(2))
    sink = SinkProcess(settings, tmp_path)
    sink.start()
    produce(settings, commands_out(state(first, "PS_OS_PAYMENT")))
    wait_offset(scratch, settings, 1, timeout=60, failed=lambda: None if sink.alive() else
                RuntimeError(sink.log.read_text()[-3000:]))
    sink.kill()

    sink.start()
    produce(settings, commands_out(state(second, "PS_OS_PAYMENT")))
    wait_offset(scratch, settings, 2, timeout=90, failed=lambda: None if sink.alive() else
                RuntimeError(sink.log.read_text()[-3000:]))
    assert history(scratch, second) == [1, 2]

    # the same identity started twice by mistake: the older process stops, saying why
    (tmp_path / "intruder").mkdir()
    intruder = SinkProcess(settings, tmp_path / "intruder")
    intruder.start()
    assert sink.proc is not None
    assert sink.proc.wait(90) != 0
    said = sink.log.read_text()
    assert "took over; only one may run with that identity" in said, said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    produce(settings, commands_out(state(first, "PS_OS_PREPARATION")))
    wait_offset(scratch, settings, 3, timeout=90, failed=lambda: None if intruder.alive() else
                RuntimeError(intruder.log.read_text()[-3000:]))
    assert intruder.terminate() == 0
