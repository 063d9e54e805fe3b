"""`pssync sink dead-letters | replay | rerun` against the local stack: commands dead-lettered by
the real shop database sink (running in a thread) are listed, their cause fixed, replayed and
applied exactly once; windows re-run by offsets and by time come back as duplicates and change
nothing. The commands are invoked through the Typer app with a --config file."""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from typer.testing import CliRunner

from pssync.bus.kafka import ensure_topics
from pssync.devstack.shop import Line, place_order
from pssync.settings import Settings
from pssync.sinks.cli import app
from pssync.sinks.prestashop_db import PrestashopDbApplier
from pssync.schemas.commands import OrderStateCommand, PriceCommand, StockCommand
from tests.integration.sinks.support import RunnerThread
from tests.integration.support import contracts

SHOP_TOPIC = "pssync-test.shop-commands"   # the subject the test's commands are registered under

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc


# ---- helpers ----------------------------------------------------------------------------------

def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def sid() -> str:
    return f"0-1-{uuid.uuid4().int % 10**12}"


def sink_settings(scratch) -> Settings:
    settings = scratch.settings()
    settings.streams.shop_commands_topic = f"{scratch.prefix}.commands.shop"
    settings.streams.dead_letter_topic = f"{scratch.prefix}.streams.dead-letter"
    settings.sinks.dead_letter_topic = f"{scratch.prefix}.sinks.dead-letter"
    settings.sinks.batch_max_ms = 50
    settings.sinks.retry_max_s = 2
    return settings


def write_config(settings: Settings, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    # load_settings exports PSSYNC_CONFIG: put it back after the test
    monkeypatch.setenv("PSSYNC_CONFIG", str(path))
    return str(path)


def cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def produce(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes | None, list]]) -> None:
    ensure_topics(settings.kafka, {topic: {}})
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True,
                         "acks": "all"})
    for key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(30) == 0


def read(settings: Settings, topic: str, start: int = 0, timeout: float = 20) -> list:
    """Every committed record of partition 0 from ``start`` to the end."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.auto.commit": False,
                         "group.id": f"reader-{uuid.uuid4().hex}", "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, start)])
    found, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return found
                raise RuntimeError(str(msg.error()))
            found.append(msg)
    finally:
        consumer.close()
    raise TimeoutError(f"{topic} did not reach its end")


def stored_offset(scratch, settings: Settings) -> int:
    rows = scratch.sql("SELECT next_offset FROM pssync_sink_offset WHERE sink=%s AND topic=%s",
                       args=(f"shop-db-{settings.capture.name}", settings.streams.shop_commands_topic)) \
        if scratch.sql("SHOW TABLES LIKE 'pssync_sink_offset'") else []
    return rows[0]["next_offset"] if rows else 0


def wait_offset(scratch, settings: Settings, end: int, sink: "SinkThread", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sink.error:
            raise sink.error
        if stored_offset(scratch, settings) >= end:
            return
        time.sleep(0.05)
    raise TimeoutError(f"sink did not store offset {end} (at {stored_offset(scratch, settings)})")


class SinkThread(RunnerThread):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, PrestashopDbApplier(settings))

def history(scratch, id_order: int) -> list[int]:
    return [r["id_order_state"] for r in scratch.sql(
        f"SELECT id_order_state FROM ps_order_history WHERE id_order={id_order} ORDER BY id_order_history")]


def stock_row(scratch, id_product: int, attr: int) -> tuple[int, int, int]:
    r = scratch.sql("SELECT quantity, reserved_quantity, physical_quantity FROM ps_stock_available "
                    f"WHERE id_product={id_product} AND id_product_attribute={attr} AND id_shop=1")[0]
    return r["quantity"], r["reserved_quantity"], r["physical_quantity"]


def shop_state(scratch) -> list[list[dict[str, Any]]]:
    return [scratch.sql(f"SELECT * FROM {table} ORDER BY 1") for table in
            ("ps_orders", "ps_order_history", "ps_stock_available", "ps_product_shop", "ps_product",
             "pssync_sync_effect", "pssync_sink_offset")]


def sync_log(scratch, after: int = 0) -> list[dict[str, Any]]:
    return scratch.sql("SELECT * FROM pssync_sync_log WHERE id > %s ORDER BY id", args=(after,))


# ---- the test ---------------------------------------------------------------------------------

def test_dead_letters_listed_fixed_replayed_once_and_windows_rerun_as_duplicates(scratch, tmp_path, monkeypatch):
    settings = sink_settings(scratch)
    config = write_config(settings, tmp_path / "sink.yaml", monkeypatch)
    topic, dlq = settings.streams.shop_commands_topic, settings.sinks.dead_letter_topic
    sink_name = f"shop-db-{settings.capture.name}"

    # an order that does not exist yet: its state command fails until the order is there
    id_order = scratch.sql("SELECT MAX(id_order) + 1 AS n FROM ps_orders")[0]["n"]
    shop_reference = f"REPLAYREF-{id_order}"       # the ERP's name for it: <shop reference>-<id_order>
    t0 = now()
    good = StockCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=t0, sku="demo_1-1",
                        id_shop=1, id_product=1, id_product_attribute=1, quantity=90, erp_as_of=t0,
                        orders_since=t0 - dt.timedelta(minutes=10))
    cancel = OrderStateCommand(command_id=str(uuid.uuid4()), source_event_id="erp-v7", created_at=t0,
                               id_order=id_order, shop_reference=shop_reference, state_key="PS_OS_CANCELED",
                               erp_state="cancelled", changed_at=t0)
    price = PriceCommand(command_id=str(uuid.uuid4()), source_event_id=sid(), created_at=t0, sku="demo_11",
                         id_shop=1, id_product=6, id_product_attribute=0, price="13.10", changed_at=t0)
    junk = b'{"type": "stock", "sku": 1}'
    produce(settings, topic, [(good.kafka_key, contracts().encode(SHOP_TOPIC, good), []),
                              (b"junk", junk, []),                                          # 1: malformed
                              (cancel.kafka_key, contracts().encode(SHOP_TOPIC, cancel), [("trace-id", b"t-1")]),   # 2: no such order
                              (price.kafka_key, contracts().encode(SHOP_TOPIC, price), [])])

    with SinkThread(settings) as sink:
        wait_offset(scratch, settings, 4, sink)
        assert (sink.runner.counters.applied, sink.runner.counters.dead_letter) == (2, 2)

        # ---- dead-letters ------------------------------------------------------------------
        listed = json.loads(cli("dead-letters", "--config", config, "--json").stdout)
        assert [(d["topic"], d["partition"], d["offset"], d["original_topic"], d["original_offset"])
                for d in listed] == [(dlq, 0, 0, topic, 1), (dlq, 0, 1, topic, 2)]
        assert all(d["sink"] == sink_name and d["original_partition"] == 0 for d in listed)
        assert listed[0]["error_class"] == "BadCommand" and listed[0]["reason"].startswith("not Avro in the Confluent wire format")
        assert listed[0]["key"] == "junk" and listed[0]["value_preview"] == junk.decode()
        assert listed[1]["error_class"] == "PermanentFailure"
        assert f"no order {id_order} ({shop_reference})" in listed[1]["reason"]
        assert listed[1]["key"] == shop_reference and listed[1]["value_preview"].startswith('{"type": "order_state", "command_id"')
        assert listed[1]["headers"]["trace-id"] == "t-1"
        assert dt.datetime.fromisoformat(listed[0]["timestamp"]) >= t0 - dt.timedelta(seconds=1)

        shown = cli("dead-letters", "--config", config)
        assert shown.exit_code == 0
        lines = shown.stdout.splitlines()
        assert len(lines) == 4
        assert lines[2].startswith("0:1 ") and f"from {topic}[0]@2 sink={sink_name} PermanentFailure: no order" \
            in lines[2]
        assert lines[3].strip().startswith(f"key={shop_reference} value={{\"type\": \"order_state\", \"command_id\"")
        newest = json.loads(cli("dead-letters", "-c", config, "--json", "--limit", "1").stdout)
        assert [d["offset"] for d in newest] == [1]
        future = (now() + dt.timedelta(hours=1)).isoformat()
        assert json.loads(cli("dead-letters", "-c", config, "--json", "--since", future).stdout) == []
        assert len(json.loads(cli("dead-letters", "-c", config, "--json", "--since", t0.isoformat()).stdout)) == 2

        # ---- fix the cause, replay: applied once ----------------------------------------------
        assert place_order(scratch.stack.mysql_params(), scratch.database, "ps_", [Line(1, 2, 3)]) == id_order
        scratch.sql(f"UPDATE ps_orders SET reference='REPLAYREF' WHERE id_order={id_order}")
        assert stock_row(scratch, 1, 2) == (297, 3, 300) and history(scratch, id_order) == [1]
        t_replay = now()
        time.sleep(0.01)
        replayed = cli("replay", "-c", config, "--offset", "1", "--yes")
        assert replayed.exit_code == 0, replayed.output
        assert f"replayed {dlq}:0:1 -> {topic}[0]@4 (originally @2" in replayed.stdout
        assert "1 of 1 replayed" in replayed.stdout
        wait_offset(scratch, settings, 5, sink)
        assert history(scratch, id_order) == [1, 6]                  # canceled ...
        assert stock_row(scratch, 1, 2) == (300, 0, 300)             # ... and its 3 units given back

        again = read(settings, topic, 4)[0]                          # the original record, marked
        assert (again.key(), again.value()) == (cancel.kafka_key, contracts().encode(SHOP_TOPIC, cancel))
        assert again.headers() == [("trace-id", b"t-1"), ("pssync.replayed-from", f"{dlq}:0:1".encode())]

        time.sleep(0.01)
        t_second = now()
        time.sleep(0.01)
        # replaying it a second time is harmless: a duplicate
        assert cli("replay", "-c", config, "--offset", "0:1", "--yes").exit_code == 0
        wait_offset(scratch, settings, 6, sink)
        counters = sink.runner.counters
        assert (counters.applied, counters.duplicate, counters.dead_letter) == (3, 1, 2)

        # ---- what cannot be replayed is refused -------------------------------------------------
        streams_dlq = settings.streams.dead_letter_topic           # as streams/app.py writes them
        produce(settings, streams_dlq, [
            (b"7", b'{"id_order": 7, "reason": "no ERP SKU", "record": {}}',
             [("__connect.errors.exception.message", b"no ERP SKU")]),
            (b"erp.stock", b'{"source": "erp.stock", "reason": "KeyError", "record": {}}',
             [("__connect.errors.exception.message", b"KeyError: 'sku'"), ("__connect.errors.topic", b"erp.stock")])])
        parked = json.loads(cli("dead-letters", "-c", config, "--topic", "streams", "--json").stdout)
        assert [(d["key"], d["reason"], d["original_topic"]) for d in parked] == \
            [("7", "no ERP SKU", None), ("erp.stock", "KeyError: 'sku'", "erp.stock")]
        refused = cli("replay", "-c", config, "--topic", streams_dlq, "--all", "--yes")
        assert refused.exit_code == 1
        assert f"refused: {streams_dlq}:0:0: no __connect.errors.topic header" in refused.stderr
        assert f"refused: {streams_dlq}:0:1: not a copy of a consumed erp.stock record" in refused.stderr
        assert "0 of 2 replayed" in refused.stdout
        missing = cli("replay", "-c", config, "--offset", "9", "--yes")
        assert missing.exit_code == 1 and f"{dlq}:0:9: no such dead letter" in missing.stderr
        assert cli("replay", "-c", config, "--yes").exit_code == 2           # neither --offset nor --all

    assert history(scratch, id_order) == [1, 6]
    effect = scratch.sql("SELECT command_id FROM pssync_sync_effect WHERE resource='order' AND external_id=%s",
                         args=(shop_reference,))
    assert [r["command_id"] for r in effect] == [cancel.command_id]
    log = [(r["kafka_offset"], r["outcome"]) for r in sync_log(scratch) if r["command_id"] == cancel.command_id]
    assert log == [(2, "dead_letter"), (4, "applied"), (5, "duplicate")]
    assert len(read(settings, dlq)) == 2                              # nothing dead-lettered again

    # ---- rerun: by offsets and by time, all duplicates, nothing changes --------------------------
    before, last_log = shop_state(scratch), sync_log(scratch)[-1]["id"]

    def rerun(*window: str) -> list[tuple[int, str]]:
        mark = sync_log(scratch)[-1]["id"]
        result = cli("rerun", "shop", "-c", config, *window)
        assert result.exit_code == 0, result.output
        done = [(r["kafka_offset"], r["outcome"]) for r in sync_log(scratch, mark)]
        n = len(done)
        assert result.stdout.splitlines()[-1] == \
            f"{n} record(s): applied 0, duplicate {n}, skipped 0, dead_letter 0", result.stdout
        return done

    assert rerun("--from-offset", "2") == [(2, "duplicate"), (3, "duplicate"), (4, "duplicate"), (5, "duplicate")]
    assert rerun("--from-offset", "0", "--to-offset", "1", "--partition", "0") == [(0, "duplicate")]
    assert rerun("--from-time", t_replay.isoformat(), "--to-time", t_second.isoformat()) == [(4, "duplicate")]
    assert rerun("--from-time", t_second.isoformat()) == [(5, "duplicate")]
    empty = cli("rerun", "shop", "-c", config, "--from-time", (now() + dt.timedelta(hours=1)).isoformat())
    assert empty.exit_code == 0 and "(nothing in the window)" in empty.stdout
    assert empty.stdout.splitlines()[-1].startswith("0 record(s): applied 0")

    assert shop_state(scratch) == before                              # offsets included
    assert stored_offset(scratch, settings) == 6
    new = sync_log(scratch, last_log)
    assert len(new) == 7 and {r["outcome"] for r in new} == {"duplicate"} and {r["sink"] for r in new} == {sink_name}
    assert len(read(settings, dlq)) == 2

    bad = cli("rerun", "shop", "-c", config, "--from-offset", "3", "--from-time", t0.isoformat())
    assert bad.exit_code == 2
    assert cli("rerun", "nope", "-c", config, "--from-offset", "0").exit_code == 2


# ---- Kafka-only details -------------------------------------------------------------------------

def test_partitions_are_kept_and_transaction_markers_end_no_window(scratch):
    """A dead letter goes back to the partition it came from, whatever its key; several
    dead-letter partitions are read; a window's end skips commit markers and aborted records."""
    from pssync.bus.kafka import transactional_producer
    from pssync.sinks import replay

    settings = sink_settings(scratch)
    kafka = settings.kafka.model_copy(update={"topic_partitions": 3})
    target, dlq = f"{scratch.prefix}.commands.three", f"{scratch.prefix}.dlq.two"
    ensure_topics(kafka, {target: {}})
    ensure_topics(kafka.model_copy(update={"topic_partitions": 2}), {dlq: {}})
    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers, "enable.idempotence": True})
    for partition, origin in ((0, 2), (1, 0), (1, 1)):
        producer.produce(dlq, partition=partition, key=f"k{origin}".encode(), value=f"v{origin}".encode(),
                         headers=[("h", b"1"), ("__connect.errors.topic", target.encode()),
                                  ("__connect.errors.partition", str(origin).encode()),
                                  ("__connect.errors.offset", b"0"), ("pssync.sink", b"test")])
    assert producer.flush(30) == 0

    records = replay.read_dead_letters(kafka, dlq)
    assert sorted(r.position for r in records) == [(0, 0), (1, 0), (1, 1)]
    chosen, missing = replay.select(replay.read_dead_letters(kafka, dlq, positions=[(1, 1), (0, 0), (0, 5)]),
                                    [(1, 1), (0, 0), (0, 5)])
    assert [r.position for r in chosen] == [(0, 0), (1, 1)] and missing == [(0, 5)]
    results = replay.replay(kafka, chosen)
    assert [(r.ok, r.topic, r.partition, r.offset) for r in results] == [(True, target, 2, 0), (True, target, 1, 0)]
    for partition, origin, source in ((2, 2, "0:0"), (1, 1, "1:1")):   # partition 0 stays empty
        consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": f"r-{uuid.uuid4().hex}",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(target, partition, 0)])
        msg = consumer.poll(10)
        consumer.close()
        assert msg is not None and not msg.error()
        assert (msg.key(), msg.value()) == (f"k{origin}".encode(), f"v{origin}".encode())
        assert msg.headers() == [("h", b"1"), ("pssync.replayed-from", f"{dlq}:{source}".encode())]

    # committed 0..2 + marker 3; aborted 4, 5 + marker 6: high watermark 7
    txn = f"{scratch.prefix}.txn"
    ensure_topics(settings.kafka, {txn: {}})
    tp = transactional_producer(settings.kafka, f"test-{scratch.tag}")
    tp.begin_transaction()
    for i in range(3):
        tp.produce(txn, key=b"k", value=str(i).encode())
    tp.commit_transaction(30)
    tp.begin_transaction()
    tp.produce(txn, key=b"k", value=b"aborted")
    tp.produce(txn, key=b"k", value=b"aborted")
    tp.flush(30)
    tp.abort_transaction(30)

    probe = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": f"r-{uuid.uuid4().hex}"})
    assert probe.get_watermark_offsets(TopicPartition(txn, 0), timeout=10, cached=False) == (0, 7)
    probe.close()
    [whole] = replay.resolve_windows(settings.kafka, txn)
    assert (whole.start, whole.end) == (0, 3)
    [tail] = replay.resolve_windows(settings.kafka, txn, from_offset=3)
    assert tail.size == 0
    [middle] = replay.resolve_windows(settings.kafka, txn, from_offset=1, to_offset=2)
    assert (middle.start, middle.end) == (1, 2)
    assert [r.value() for r in read(settings, txn)] == [b"0", b"1", b"2"]
