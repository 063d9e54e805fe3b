"""The shop sink in Webservice mode end to end: shop commands on a fresh Kafka topic, the real
SinkRunner (sinks/runner.py) with PrestashopWebserviceApplier, the sync log, effects and offsets in
a scratch MariaDB database, dead letters on Kafka, and the local Webservice server
(tests/vendor_servers/prestashop_webservice.py: follows PrestaShop's documents, is not PrestaShop)
standing in for the shop."""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from pssync.bus.kafka import ensure_topics
from pssync.settings import Settings
from pssync.sinks.cli import build_applier, state_connection
from pssync.sinks.prestashop_ws import PrestashopWebserviceApplier
from pssync.sinks.runner import SinkRunner
from pssync.schemas.commands import OrderStateCommand, PriceCommand, StockCommand, TrackingCommand
from tests.integration.sinks.support import RunnerThread, empty_database
from tests.vendor_servers.prestashop_webservice import (ALL_METHODS, DEFAULT_KEY, RESOURCES,
                                                        PrestashopWebserviceServer, seed_demo)
from tests.integration.support import contracts

SHOP_TOPIC = "pssync-test.shop-commands"   # the subject the test's commands are registered under

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
CLIENT_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def state_db(stack):
    """A scratch database for the sink's sync log, effects and offsets (the runner creates them)."""
    with empty_database(stack, f"pssync_wssink_{uuid.uuid4().hex[:10]}") as name:
        yield name


@pytest.fixture()
def tag() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture()
def server():
    srv = seed_demo(PrestashopWebserviceServer()).start()
    yield srv
    srv.stop()


def ws_settings(stack, tag: str, state_db: str, server: PrestashopWebserviceServer, **webservice: Any) -> Settings:
    return Settings(
        mysql={"host": "127.0.0.1", "port": stack.mariadb_port, "user": stack.mysql_user,
               "password": stack.mysql_password, "database": stack.database,
               "table_prefix": stack.table_prefix},
        kafka={"bootstrap_servers": stack.kafka_bootstrap, "client_config": CLIENT_CONFIG},
        registry={"url": stack.ccompat_url},
        capture={"name": f"it-{tag}"},
        streams={"shop_commands_topic": f"it-{tag}.commands.shop"},
        sinks={"prestashop_mode": "webservice", "dead_letter_topic": f"it-{tag}.sinks.dead-letter",
               "state_database": state_db, "batch_max_ms": 50, "retry_max_s": 2,
               "webservice": {"url": server.url + "/api", "key": DEFAULT_KEY, "timeout_s": 5, **webservice}},
    )


# ---- commands -------------------------------------------------------------------------------------

def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def common(tag: str, n: int) -> dict[str, Any]:
    return {"command_id": str(uuid.uuid4()), "source_event_id": f"it-{tag}-{n}", "created_at": now()}


def stock(tag: str, n: int, quantity: int, *, attribute: int = 3, known: tuple[int, ...] = ()) -> StockCommand:
    return StockCommand(**common(tag, n), sku=f"demo_1-{attribute}", id_shop=1, id_product=1,
                        id_product_attribute=attribute, quantity=quantity, erp_as_of=now(), known_orders=known,
                        orders_since=now() - dt.timedelta(minutes=10))


def price(tag: str, n: int, value: str, attribute: int = 0) -> PriceCommand:
    return PriceCommand(**common(tag, n), sku=f"demo_1-{attribute}", id_shop=1, id_product=1,
                        id_product_attribute=attribute, price=Decimal(value), changed_at=now())


def state(tag: str, n: int, id_order: int, reference: str, key: str) -> OrderStateCommand:
    return OrderStateCommand(**common(tag, n), id_order=id_order, shop_reference=reference, state_key=key,
                             erp_state="processing", changed_at=now())


def tracking(tag: str, n: int, id_order: int, reference: str, number: str) -> TrackingCommand:
    return TrackingCommand(**common(tag, n), id_order=id_order, shop_reference=reference,
                           tracking_number=number, changed_at=now())


def produce(settings: Settings, commands: list[Any]) -> None:
    ensure_topics(settings.kafka, {settings.streams.shop_commands_topic: {},
                                   settings.sinks.dead_letter_topic: {}})
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers,
                         "enable.idempotence": True, "acks": "all"})
    for cmd in commands:
        producer.produce(settings.streams.shop_commands_topic, key=cmd.kafka_key, value=contracts().encode(SHOP_TOPIC, cmd))
    assert producer.flush(30) == 0


# ---- running the sink ------------------------------------------------------------------------------

class SinkThread(RunnerThread):
    def __init__(self, settings: Settings) -> None:
        applier = build_applier(settings, "shop")          # what `pssync sink shop` builds
        assert isinstance(applier, PrestashopWebserviceApplier)
        super().__init__(settings, applier, state_connection(settings))

def sync_log(settings: Settings, sink: str) -> list[dict[str, Any]]:
    conn = state_connection(settings)()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT source_event_id, outcome, error, detail, kafka_offset FROM pssync_sync_log "
                        "WHERE sink=%s ORDER BY id", (sink,))
            return list(cur.fetchall())
    finally:
        conn.close()


def read_all(settings: Settings, topic: str, count: int, timeout: float = 20) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": f"r-{uuid.uuid4()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or (msg.error() and msg.error().code() == KafkaError._PARTITION_EOF):
                continue
            assert msg.error() is None, msg.error()
            found.append(msg)
    finally:
        consumer.close()
    return found


# ---- tests ------------------------------------------------------------------------------------------

def test_each_command_type_applied_racing_orders_subtracted_and_replay_is_duplicate(stack, state_db, tag,
                                                                                     server):
    settings = ws_settings(stack, tag, state_db, server)
    known = server.place_order("KNOWNORDR", [(1, 3, 3)])            # the processor had counted it
    server.place_order("UNSEENORD", [(1, 3, 2)])                     # it had not: the sink subtracts it
    # a checkout landing between the sink's read of the orders and its PATCH
    server.on("PATCH", "stock_availables", lambda s: s.place_order("RACINGORD", [(1, 3, 4)]))
    commands = [
        stock(tag, 1, 120, known=(known,)),
        price(tag, 2, "25.50"),
        price(tag, 3, "27.40", attribute=3),
        state(tag, 4, 4, "FFATNOMMJ", "PS_OS_PAYMENT"),
        state(tag, 5, 4, "FFATNOMMJ", "PS_OS_PAYMENT"),              # already there by then: skipped
        tracking(tag, 6, 2, "OHSATSERP", "1Z999AA10123456784"),
        tracking(tag, 7, 2, "OHSATSERP", "1Z999AA10123456784"),      # same number: skipped
    ]
    produce(settings, commands)
    with SinkThread(settings) as sink:
        sink.wait_for(len(commands))
    counters = sink.runner.counters
    assert (counters.applied, counters.skipped, counters.dead_letter, counters.duplicate) == (5, 2, 0, 0)

    assert server.stock(1, 3) == 120 - 2 - 4
    stock_patches = [c.body["stock_available"] for c in server.requests("PATCH", "/stock_availables/")]
    assert stock_patches == [{"id": "4", "quantity": "118"}, {"id": "4", "quantity": "114"}]
    assert server.stock(1, 0) == sum(server.stock(1, a) for a in range(1, 9))      # re-summed by the shop
    assert server.row("products", 1)["price"] == "25.500000"
    assert server.row("combinations", 3)["price"] == "1.900000"
    assert server.row("orders", 4)["current_state"] == "2"
    assert len(server.requests("POST", "/order_histories")) == 1
    assert "sendemail" not in server.requests("POST", "/order_histories")[0].query
    assert server.row("order_carriers", 2)["tracking_number"] == "1Z999AA10123456784"
    assert len(server.requests("PATCH", "/order_carriers/")) == 1

    log = sync_log(settings, sink.applier.name)
    assert [(r["source_event_id"], r["outcome"]) for r in log] == [
        (f"it-{tag}-{n}", outcome) for n, outcome in
        enumerate(["applied", "applied", "applied", "applied", "skipped", "applied", "skipped"], start=1)]
    assert "quantity=114" in log[0]["detail"] and "re-check" in log[0]["detail"]

    # replaying the window acts on nothing: every command is a duplicate, the shop hears nothing
    calls_before = len(server.calls)
    replay = SinkRunner(settings, build_applier(settings, "shop"), state_connection(settings))
    seen = replay.run_range(settings.streams.shop_commands_topic, 0, 0, len(commands), threading.Event())
    assert seen == len(commands)
    assert (replay.counters.duplicate, replay.counters.applied) == (len(commands), 0)
    assert len(server.calls) == calls_before
    assert [r["outcome"] for r in sync_log(settings, sink.applier.name)[len(log):]] == ["duplicate"] * 7


def test_503_with_retry_after_is_retried_then_applied(stack, state_db, tag, server):
    settings = ws_settings(stack, tag, state_db, server)
    server.fail_next(1, "503", retry_after="1", path_contains="/api/stock_availables/", method="PATCH")
    produce(settings, [stock(tag, 1, 42), price(tag, 2, "24.00")])
    with SinkThread(settings) as sink:
        sink.wait_for(2)
    counters = sink.runner.counters
    assert (counters.applied, counters.retries, counters.dead_letter) == (2, 1, 0)
    assert server.stock(1, 3) == 42
    failed, succeeded = server.requests("PATCH", "/stock_availables/")
    assert succeeded.at - failed.at >= 1.0                    # Retry-After: 1 was honoured
    log = sync_log(settings, sink.applier.name)
    assert [(r["source_event_id"], r["outcome"]) for r in log] == [
        (f"it-{tag}-1", "retry"), (f"it-{tag}-1", "applied"), (f"it-{tag}-2", "applied")]
    assert "-> 503" in log[0]["error"]


def test_401_goes_to_the_dead_letter_topic_and_processing_continues(stack, state_db, tag):
    # a key without the order_carriers resource: PrestaShop answers 401, code 26
    limited = PrestashopWebserviceServer(permissions={r: ALL_METHODS for r in RESOURCES if r != "order_carriers"})
    seed_demo(limited).start()
    try:
        settings = ws_settings(stack, tag, state_db, limited)
        bad = tracking(tag, 1, 2, "OHSATSERP", "TRACK-401")
        produce(settings, [bad, stock(tag, 2, 77), state(tag, 3, 4, "FFATNOMMJ", "PS_OS_SHIPPING")])
        with SinkThread(settings) as sink:
            sink.wait_for(3)
        counters = sink.runner.counters
        assert (counters.dead_letter, counters.applied) == (1, 2)
        assert limited.stock(1, 3) == 77 and limited.row("orders", 4)["current_state"] == "4"

        [dead] = read_all(settings, settings.sinks.dead_letter_topic, 1)
        headers = {k: v.decode() for k, v in dead.headers()}
        reason = headers["__connect.errors.exception.message"]
        assert '-> 401: [26] Resource of type "order_carriers" is not allowed with this authentication key' in reason
        assert headers["__connect.errors.exception.class.name"] == "PermanentFailure"
        assert headers["__connect.errors.topic"] == settings.streams.shop_commands_topic
        assert headers["__connect.errors.offset"] == "0"
        assert headers["pssync.sink"] == sink.applier.name
        assert (dead.key(), dead.value()) == (bad.kafka_key, contracts().encode(SHOP_TOPIC, bad))
        assert DEFAULT_KEY not in reason

        log = sync_log(settings, sink.applier.name)
        assert [r["outcome"] for r in log] == ["dead_letter", "applied", "applied"]
        assert "order_carriers" in log[0]["error"]
    finally:
        limited.stop()
