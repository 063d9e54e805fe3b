"""The ERP sink end to end against the local stack: commands on Kafka, sales in the real Tryton,
acks and dead letters on Kafka, the sync log and offsets in MariaDB. Nothing is mocked."""
from __future__ import annotations

import dataclasses
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
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from pssync.bus.kafka import admin, ensure_topics
from pssync.erp.base import Address, Customer
from pssync.erp.registry import build_adapter
from pssync.erp.tryton import TrytonAdapter
from pssync.settings import Settings
from pssync.sinks import synclog
from pssync.sinks.erp import ErpApplier
from pssync.sinks.runner import SinkRunner
from pssync.schemas.sales_order import CommandLine, SalesOrderCommand
from tests.integration.erp.tryton_support import adapter as tryton_adapter
from tests.integration.erp.tryton_support import new_product
from tests.integration.sinks.support import RunnerThread
from tests.integration.support import contracts, read_settled

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
ADDRESS = Address("John DOE", "16, Main street", "33133", "Miami", "US", street2="2nd floor")
CUSTOMER = Customer("PS-CUST-1", "John DOE", "pub@prestashop.com")
# a dead consumer's group membership must expire quickly for the crash test's restarts
CLIENT_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def erp(stack):
    instance = tryton_adapter(stack)
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def skus(erp) -> list[str]:
    """Two Tryton products of this module's own (codes as PrestaShop references), so the sales
    made here leave the demo catalogue's stock as it was."""
    return new_product(erp, "12.50", variants=2)


def sink_settings(stack, tag: str, state_db: str, client_config: dict[str, Any] | None = None,
                  **tryton: Any) -> Settings:
    return Settings(
        mysql={"host": "127.0.0.1", "port": stack.mariadb_port, "user": stack.mysql_user,
               "password": stack.mysql_password, "database": stack.database,
               "table_prefix": stack.table_prefix},
        kafka={"bootstrap_servers": stack.kafka_bootstrap, "client_config": client_config or {}},
        registry={"url": stack.ccompat_url},
        erp={"kind": "tryton", "name": f"it-{tag}",
             "tryton": {"url": f"http://127.0.0.1:{stack.tryton_port}", "database": stack.tryton_database,
                        "user": stack.tryton_user, "password": stack.tryton_password, **tryton}},
        streams={"commands_topic": f"it-{tag}.commands.erp.sales_orders"},
        sinks={"acks_topic": f"it-{tag}.erp.acks", "dead_letter_topic": f"it-{tag}.sinks.dead-letter",
               "state_database": state_db, "batch_max_ms": 50, "retry_attempts": 3, "retry_max_s": 2},
    )


def connector(settings: Settings):
    def connect() -> pymysql.connections.Connection:
        return pymysql.connect(host=settings.mysql.host, port=settings.mysql.port, user=settings.mysql.user,
                               password=settings.mysql.password, database=settings.sinks.state_database,
                               autocommit=True, charset="utf8mb4", cursorclass=pymysql.cursors.DictCursor)
    return connect


# ---- commands -------------------------------------------------------------------------------------

def order(tag: str, n: int, lines: list[tuple[str, str, str]], action: str = "create",
          reference: str | None = None, source_event_id: str | None = None) -> SalesOrderCommand:
    reference = reference or f"IT{tag.upper()}-{n}"
    return SalesOrderCommand(
        command_id=uuid.uuid4(), erp_action=action, shop_id="it", id_shop=1, id_order=n,
        reference=reference.split("-")[0], shop_reference=reference, state_id=2,
        state_key="PS_OS_PAYMENT" if action == "create" else "PS_OS_CANCELED",
        source_event_id=source_event_id or f"0-1-{random.randint(1, 10**9)}",
        customer=CUSTOMER, currency="EUR",
        lines=tuple(CommandLine(sku, Decimal(q), Decimal(p), f"line {i}", "product", 1000 * n + i)
                    for i, (sku, q, p) in enumerate(lines, start=1)),
        invoice_address=ADDRESS, shipment_address=ADDRESS, ordered_at=dt.datetime.now(UTC),
        shipping_cost=Decimal(0), comment=f"integration test {tag}", carrier="", price_list=None)


def produce(settings: Settings, commands: list[SalesOrderCommand]) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers,
                         "enable.idempotence": True, "acks": "all"})
    for cmd in commands:
        producer.produce(settings.streams.commands_topic, key=str(cmd.command_id).encode(),
                         value=contracts().encode(settings.streams.commands_topic, cmd))
    assert producer.flush(30) == 0


class SinkThread(RunnerThread):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, ErpApplier(settings, build_adapter(settings.erp.kind, settings.erp.options())),
                         connector(settings))

    def wait_offset(self, end: int, timeout: float = 60) -> None:
        wait_offset(self.settings, end, timeout, lambda: self.error)

def stored_offset(settings: Settings) -> int:
    conn = connector(settings)()
    try:
        synclog.ensure_tables(conn)
        return synclog.stored_offsets(conn, f"erp-{settings.erp.name}",
                                      settings.streams.commands_topic).get(0, 0)
    finally:
        conn.close()


def wait_offset(settings: Settings, end: int, timeout: float = 60, failed=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if failed():
            raise failed()
        if stored_offset(settings) >= end:
            return
        time.sleep(0.1)
    raise TimeoutError(f"sink did not store offset {end} within {timeout}s (at {stored_offset(settings)})")


def log_rows(settings: Settings) -> list[dict[str, Any]]:
    conn = connector(settings)()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM pssync_sync_log WHERE sink=%s ORDER BY id", (f"erp-{settings.erp.name}",))
            return list(cur.fetchall())
    finally:
        conn.close()


def read_records(settings: Settings, topic: str, min_count: int, timeout: float = 20,
                 settle: float = 0.5) -> list:
    records = read_settled(settings.kafka.bootstrap_servers, [topic], min_count=min_count, timeout=timeout,
                           settle=settle)
    assert len(records) >= min_count, f"{topic}: {len(records)} records, expected {min_count}"
    return records


def sales(erp: TrytonAdapter, reference: str) -> list[dict[str, Any]]:
    found = erp.search_read("sale.sale", [("reference", "=", reference)], ["id", "state", "party.code"])
    for sale in found:
        sale["lines"] = sorted((line["product."]["code"], Decimal(str(line["quantity"])), line["unit_price"])
                               for line in erp.search_read("sale.line", [("sale", "=", sale["id"])],
                                                           ["product.code", "quantity", "unit_price"]))
    return found


def expected_lines(cmd: SalesOrderCommand) -> list[tuple[str, Decimal, Decimal]]:
    return sorted((line.sku, line.quantity, line.unit_price) for line in cmd.lines)


# ---- tests ----------------------------------------------------------------------------------------

def test_orders_are_created_once_acked_logged_and_replays_are_duplicates(stack, erp, skus, tag, state_db):
    settings = sink_settings(stack, tag, state_db)
    a, b = skus
    commands = [order(tag, 1, [(a, "2", "12.50"), (b, "1", "9.90")]),
                order(tag, 2, [(b, "3", "9.90")]),
                order(tag, 3, [(a, "1", "12.50"), (a, "4", "11.00")])]   # the same SKU twice
    produce(settings, commands)
    with SinkThread(settings) as sink:
        sink.wait_offset(3)
    assert sink.runner.counters.applied == 3

    erp_ids = {}
    for cmd in commands:
        [sale] = sales(erp, cmd.shop_reference)
        assert sale["lines"] == expected_lines(cmd)
        assert sale["party."]["code"] == "PS-CUST-1" and sale["state"] in ("confirmed", "processing")
        erp_ids[cmd.shop_reference] = str(sale["id"])

    acks = read_records(settings, settings.sinks.acks_topic, 3)
    assert len(acks) == 3
    by_ref = {}
    for msg in acks:
        ack = contracts().ack(msg.value(), "ack")
        assert msg.key() == ack.shop_reference.encode()
        by_ref[ack.shop_reference] = ack
    for cmd in commands:
        ack = by_ref[cmd.shop_reference]
        assert (ack.command_id, ack.action, ack.id_order, ack.created) == (str(cmd.command_id), "create",
                                                                          cmd.id_order, True)
        assert ack.erp_order_id == erp_ids[cmd.shop_reference]
        assert ack.acked_at <= dt.datetime.now(UTC)
    assert by_ref[commands[2].shop_reference].lines == {a: Decimal(5)}
    assert by_ref[commands[0].shop_reference].lines == {a: Decimal(2), b: Decimal(1)}

    rows = log_rows(settings)
    assert [(r["command_id"], r["outcome"], r["detail"], r["kafka_offset"]) for r in rows] == [
        (str(cmd.command_id), "applied", erp_ids[cmd.shop_reference], i) for i, cmd in enumerate(commands)]
    assert {r["direction"] for r in rows} == {"to_erp"}

    # a replay of the same offsets acts nowhere: logged as duplicates, no second sale, no ack
    rerun = SinkRunner(settings, ErpApplier(settings, tryton_adapter(stack)), connector(settings))
    assert rerun.run_range(settings.streams.commands_topic, 0, 0, 3, threading.Event()) == 3
    assert rerun.counters.duplicate == 3 and rerun.counters.applied == 0
    rows = log_rows(settings)
    assert [r["outcome"] for r in rows[3:]] == ["duplicate"] * 3
    for cmd in commands:
        assert len(sales(erp, cmd.shop_reference)) == 1

    # a crash after the ERP call and before the commit loses the effect row: applied again, the ERP
    # finds the sale, and the ack says it was not created by this attempt
    lost = commands[1]
    conn = connector(settings)()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM pssync_sync_effect WHERE external_id=%s", (lost.shop_reference,))
    conn.close()
    rerun = SinkRunner(settings, ErpApplier(settings, tryton_adapter(stack)), connector(settings))
    assert rerun.run_range(settings.streams.commands_topic, 0, 1, 2, threading.Event()) == 1
    assert rerun.counters.applied == 1
    assert log_rows(settings)[-1]["detail"] == f"{erp_ids[lost.shop_reference]} existing"
    assert len(sales(erp, lost.shop_reference)) == 1
    again = contracts().ack(read_records(settings, settings.sinks.acks_topic, 4)[-1].value(), "ack")
    assert (again.shop_reference, again.erp_order_id, again.created) == (
        lost.shop_reference, erp_ids[lost.shop_reference], False)
    assert stored_offset(settings) == 3    # run_range never moves the stored offsets


def test_unknown_sku_is_dead_lettered_with_trytons_message_and_the_next_order_applied(
        stack, erp, skus, tag, state_db):
    settings = sink_settings(stack, tag, state_db)
    missing = f"no-such-sku-{tag}"
    bad = order(tag, 1, [(skus[0], "1", "12.50"), (missing, "1", "1.00")])
    good = order(tag, 2, [(skus[1], "2", "9.90")])
    produce(settings, [bad, good])
    with SinkThread(settings) as sink:
        sink.wait_offset(2)

    assert sales(erp, bad.shop_reference) == []
    [sale] = sales(erp, good.shop_reference)
    assert sale["lines"] == expected_lines(good)

    [dead] = read_records(settings, settings.sinks.dead_letter_topic, 1)
    headers = {k: v.decode() for k, v in dead.headers()}
    message = headers["__connect.errors.exception.message"]
    assert message.startswith("tryton: ")
    assert f"order {bad.shop_reference}: unknown product code(s) {missing}" in message
    assert headers["__connect.errors.exception.class.name"] == "PermanentFailure"
    assert headers["__connect.errors.topic"] == settings.streams.commands_topic
    assert headers["__connect.errors.offset"] == "0" and headers["pssync.sink"] == f"erp-it-{tag}"
    assert dead.value() == contracts().encode(settings.streams.commands_topic, bad) and dead.key() == str(bad.command_id).encode()

    rows = log_rows(settings)
    assert [(r["command_id"], r["outcome"]) for r in rows] == [(str(bad.command_id), "dead_letter"),
                                                               (str(good.command_id), "applied")]
    assert missing in rows[0]["error"]
    [ack] = read_records(settings, settings.sinks.acks_topic, 1)
    assert contracts().ack(ack.value(), "ack").shop_reference == good.shop_reference


def test_a_dead_letter_kafka_refuses_is_retried_never_lost(stack, erp, skus, tag, state_db):
    """Kafka acknowledges nothing it refused: a dead letter the topic rejects (here: larger than the
    topic allows) holds the command's offset back until it is stored."""
    settings = sink_settings(stack, tag, state_db)
    dlq = settings.sinks.dead_letter_topic
    ensure_topics(settings.kafka, {dlq: {"max.message.bytes": "600"}})
    bad = dataclasses.replace(order(tag, 1, [(f"no-such-sku-{tag}", "1", "1.00")]),
                              comment=random.randbytes(1000).hex())   # too large for the topic, even compressed
    assert len(contracts().encode(settings.streams.commands_topic, bad)) > 600
    produce(settings, [bad])
    with SinkThread(settings) as sink:
        deadline = time.monotonic() + 30
        while sink.runner.counters.retries < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sink.runner.counters.retries >= 2 and stored_offset(settings) == 0
        retries = [r for r in log_rows(settings) if r["outcome"] == "retry"]
        assert retries and "dead-letter topic refused a record" in retries[0]["error"]
        assert "MSG_SIZE_TOO_LARGE" in retries[0]["error"]
        # the operator raises the limit: the next retry stores the dead letter and moves on
        client = admin(settings.kafka)
        future = client.incremental_alter_configs([ConfigResource(
            ResourceType.TOPIC, dlq, incremental_configs=[ConfigEntry(
                "max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)])])
        for f in future.values():
            f.result(30)
        sink.wait_offset(1)
    [dead] = read_records(settings, dlq, 1)
    assert dead.value() == contracts().encode(settings.streams.commands_topic, bad)
    assert [r["outcome"] for r in log_rows(settings)][-1] == "dead_letter"


def test_cancel_cancels_a_quotation_and_an_order_the_erp_never_had_is_skipped(stack, erp, skus, tag, state_db):
    # sales left as quotations for review in Tryton can be cancelled
    settings = sink_settings(stack, tag, state_db, sale_state="quotation")
    create = order(tag, 1, [(skus[0], "1", "12.50")])
    cancel = order(tag, 1, [(skus[0], "1", "12.50")], action="cancel", reference=create.shop_reference)
    never = order(tag, 2, [(skus[1], "1", "9.90")], action="cancel")
    produce(settings, [create, cancel, never])
    with SinkThread(settings) as sink:
        sink.wait_offset(3)

    [sale] = sales(erp, create.shop_reference)
    assert sale["state"] == "cancelled"
    rows = log_rows(settings)
    assert [(r["operation"], r["outcome"]) for r in rows] == [("create", "applied"), ("cancel", "applied"),
                                                              ("cancel", "skipped")]
    assert rows[1]["detail"] == str(sale["id"])
    assert "nothing to cancel" in rows[2]["detail"] and never.shop_reference in rows[2]["detail"]
    acks = [contracts().ack(m.value(), "ack") for m in read_records(settings, settings.sinks.acks_topic, 2)]
    assert [(a.action, a.erp_order_id, a.created) for a in acks] == [("create", str(sale["id"]), True),
                                                                     ("cancel", str(sale["id"]), False)]
    assert acks[1].command_id == str(cancel.command_id) and acks[1].lines == {skus[0]: Decimal(1)}


def test_cancel_of_an_order_tryton_already_processes_withdraws_it(stack, erp, skus, tag, state_db):
    """Tryton processes a confirmed sale at once; the shop's cancel withdraws it (erp/tryton.py):
    done with nothing shipped or invoiced. A shipped sale's cancel is refused (test_tryton_adapter.py)."""
    settings = sink_settings(stack, tag, state_db)     # confirmed sales: Tryton processes them
    create = order(tag, 1, [(skus[1], "1", "9.90")])
    cancel = order(tag, 1, [(skus[1], "1", "9.90")], action="cancel", reference=create.shop_reference)
    produce(settings, [create, cancel])
    with SinkThread(settings) as sink:
        sink.wait_offset(2)

    [sale] = erp.search_read("sale.sale", [("reference", "=", create.shop_reference)],
                             ["state", "shipment_state", "invoice_state"])
    assert (sale["state"], sale["shipment_state"], sale["invoice_state"]) == ("done", "none", "none"), sale
    assert [(r["operation"], r["outcome"]) for r in log_rows(settings)] == [("create", "applied"),
                                                                            ("cancel", "applied")]


def test_sink_killed_twice_creates_every_order_exactly_once(stack, erp, skus, tag, state_db, tmp_path: Path):
    settings = sink_settings(stack, tag, state_db, CLIENT_CONFIG)
    commands = [order(tag, n, [(skus[n % 2], str(1 + n % 3), "12.50"), (skus[(n + 1) % 2], "1", "9.90")])
                for n in range(1, 16)]
    produce(settings, commands)
    sink = SinkProcess(settings, tmp_path)
    try:
        # kill 1: at a random moment once a few orders went through
        sink.start()
        wait_offset(settings, 3, 60, sink.died)
        time.sleep(random.uniform(0, 1.0))
        sink.kill()
        first_kill = stored_offset(settings)
        # kill 2: as soon as Tryton has the sale of an order further on, i.e. (most likely) after
        # the ERP created it and before the sink committed: the restart must find it, not recreate it
        sink.start()
        target = commands[first_kill + 2]
        deadline = time.monotonic() + 60
        while not sales(erp, target.shop_reference):
            assert not sink.died() and time.monotonic() < deadline, "sink made no progress"
            time.sleep(0.02)
        sink.kill()
        between = stored_offset(settings) <= first_kill + 2    # its offset was not committed yet
        sink.start()
        wait_offset(settings, len(commands), 90, sink.died)
        assert sink.terminate() == 0
    finally:
        sink.kill()
    print(f"first kill at offset {first_kill}; second kill between ERP and commit: {between}; log {sink.log}")

    for cmd in commands:
        [sale] = sales(erp, cmd.shop_reference)
        assert sale["lines"] == expected_lines(cmd), cmd.shop_reference
        assert sale["state"] in ("confirmed", "processing"), (cmd.shop_reference, sale["state"])
    assert stored_offset(settings) == high_watermark(settings) == len(commands)

    rows = log_rows(settings)
    applied = {r["command_id"]: r["detail"] for r in rows if r["outcome"] == "applied"}
    assert sorted(r["command_id"] for r in rows if r["outcome"] == "applied") == sorted(
        str(c.command_id) for c in commands)        # exactly one applied row per command
    if between:
        erp_id = str(sales(erp, target.shop_reference)[0]["id"])
        assert applied[str(target.command_id)] == f"{erp_id} existing"
    acks = [contracts().ack(m.value(), "ack") for m in read_records(settings, settings.sinks.acks_topic,
                                                                len(commands))]
    for cmd in commands:                       # duplicates after a kill are allowed, gaps are not
        mine = [a for a in acks if a.shop_reference == cmd.shop_reference]
        assert mine and {a.erp_order_id for a in mine} == {str(sales(erp, cmd.shop_reference)[0]["id"])}


def high_watermark(settings: Settings) -> int:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "it-watermarks"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(settings.streams.commands_topic, 0),
                                              timeout=10, cached=False)[1]
    finally:
        consumer.close()


class SinkProcess:
    """`python -m pssync.cli sink erp` in a child process, as an operator would run it."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.config = workdir / "sink.yaml"
        self.config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
        self.log = workdir / "sink.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n==== start {self.starts} ====\n")
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "pssync.cli", "sink", "erp",
                                          "--config", str(self.config)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env)

    def died(self) -> Exception | None:
        if self.proc is not None and self.proc.poll() is not None:
            return RuntimeError(f"sink exited with {self.proc.returncode}: {self.log.read_text()[-3000:]}")
        return None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(60)
