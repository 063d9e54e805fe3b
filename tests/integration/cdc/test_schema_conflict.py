"""A type-changing ALTER the registry refuses holds that one table (position kept, dead letter
and alert, shown in `cdc status`) while the other tables stream; it survives restarts, and
`pssync cdc resolve` sends the held table's events from the hold on, none lost or doubled."""
from __future__ import annotations

import json

import pytest
import yaml

from pssync.schemas.dead_letters import ERROR_CLASS, ERROR_MESSAGE, SCHEMA_SUBJECT, TABLE
from tests.integration.cdc.test_capture_events import ORDER_INSERT
from tests.integration.support import CaptureThread, cli_env, read_settled, readable, run_cli

pytestmark = pytest.mark.integration


def stock_update(scratch, row: int, quantity: str) -> None:
    scratch.sql(f"UPDATE ps_stock_available SET quantity='{quantity}' WHERE id_stock_available={row}")


def status(config) -> dict:
    run = run_cli("cdc", "status", "--json", "--config", str(config), env=cli_env())
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_refused_schema_holds_only_its_table_until_resolved(scratch, tmp_path):
    settings = scratch.settings(["orders", "stock_available"])
    settings = settings.model_copy(update={"streams": settings.streams.model_copy(
        update={"alerts_topic": f"{scratch.prefix}.streams.alerts"})})
    config = tmp_path / "capture.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    stock_rows = scratch.sql("SELECT COUNT(*) AS n FROM ps_stock_available")[0]["n"]
    stock_topic, orders_topic = scratch.topic("stock_available"), scratch.topic("orders")
    dead_letters = f"{scratch.prefix}.cdc.dead-letter"

    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        stock_update(scratch, 1, "11")                       # streamed with the INT schema
        # INT -> VARCHAR: the registry's BACKWARD rule refuses it (a string reader cannot read ints)
        scratch.sql("ALTER TABLE ps_stock_available MODIFY quantity VARCHAR(20) NOT NULL DEFAULT '0'")
        stock_update(scratch, 1, "12")                       # held from here on
        scratch.sql(ORDER_INSERT.format(id=600))             # the other table streams on
        stock_update(scratch, 2, "13")
        cap.wait_committed(scratch.gtid_seq())
    orders = scratch.read_topic(orders_topic, min_count=6)
    assert [e.key["id_order"] for e in orders if e.value["op"] == "c"] == [600]

    (letter,) = read_settled(scratch.stack.kafka_bootstrap, [dead_letters], min_count=1)
    headers = dict(letter.headers())
    assert headers[TABLE] == b"ps_stock_available" and headers[ERROR_CLASS] == b"SchemaConflict"
    assert headers[SCHEMA_SUBJECT] == f"{stock_topic}-value".encode()
    assert b"pssync cdc resolve stock_available --mode force" in headers[ERROR_MESSAGE]
    (alert,) = [readable(m.value()) for m in read_settled(
        scratch.stack.kafka_bootstrap, [settings.streams.alerts_topic], min_count=1)]
    assert alert["kind"] == "schema_conflict" and "ps_stock_available" in alert["reason"]

    # a restart neither crash-loops nor forgets the hold, nor dead-letters it again
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql(ORDER_INSERT.format(id=601))
        stock_update(scratch, 3, "14")
        cap.wait_committed(scratch.gtid_seq())
    orders = scratch.read_topic(orders_topic, min_count=7)
    assert [e.key["id_order"] for e in orders if e.value["op"] == "c"] == [600, 601]
    report = status(config)
    (held,) = report["held_tables"]
    assert held["table"] == f"{scratch.database}.ps_stock_available"
    assert held["subject"] == f"{stock_topic}-value" and "BACKWARD" in held["reason"]
    assert "pssync cdc resolve stock_available --mode force" in held["fix"]
    assert len(read_settled(scratch.stack.kafka_bootstrap, [dead_letters], min_count=1)) == 1

    # resolving: the held events arrive (from the first refused one, in order), nothing else twice
    run = run_cli("cdc", "resolve", "stock_available", "--mode", "force", "--config", str(config), env=cli_env())
    assert run.returncode == 0, run.stderr
    with CaptureThread(settings) as cap:
        stock = scratch.read_topic(stock_topic, min_count=stock_rows + 4, timeout=60)
        stock_update(scratch, 1, "15")                       # and it streams on after
        scratch.sql(ORDER_INSERT.format(id=602))
        cap.wait_committed(scratch.gtid_seq())
    stock = scratch.read_topic(stock_topic, min_count=stock_rows + 5)
    changes = [(e.key["id_stock_available"], e.value["after"]["quantity"]) for e in stock if e.value["op"] == "u"]
    assert changes == [(1, 11), (1, "12"), (2, "13"), (3, "14"), (1, "15")]
    orders = scratch.read_topic(orders_topic, min_count=8)
    assert [e.key["id_order"] for e in orders if e.value["op"] == "c"] == [600, 601, 602]
    assert status(config)["held_tables"] == []


def test_resolve_refuses_a_table_that_is_not_held(scratch, tmp_path):
    settings = scratch.settings(["orders"])
    config = tmp_path / "capture.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
    run = run_cli("cdc", "resolve", "orders", "--mode", "force", "--config", str(config), env=cli_env())
    assert run.returncode != 0 and "ps_orders is not held" in run.stderr


class Crash(Exception):
    pass


def test_a_crash_while_a_resolved_table_is_read_again_resumes_it_exactly_once(scratch, tmp_path):
    settings = scratch.settings(["orders", "stock_available"], batch_max_events=1)
    stock_rows = scratch.sql("SELECT COUNT(*) AS n FROM ps_stock_available")[0]["n"]
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("ALTER TABLE ps_stock_available MODIFY quantity VARCHAR(20) NOT NULL DEFAULT '0'")
        for n in range(4):     # each transaction: an order (streams) and two stock rows (held)
            scratch.sql(ORDER_INSERT.format(id=700 + n),
                        f"UPDATE ps_stock_available SET quantity='{n}a' WHERE id_stock_available=1",
                        f"UPDATE ps_stock_available SET quantity='{n}b' WHERE id_stock_available=2")
        cap.wait_committed(scratch.gtid_seq())
    assert [h.table for h in cap.capture.committed.held] == ["ps_stock_available"]
    config = tmp_path / "capture.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    run = run_cli("cdc", "resolve", "stock_available", "--mode", "force", "--config", str(config), env=cli_env())
    assert run.returncode == 0, run.stderr

    def die_in_the_replay(offset, events):
        if offset.replay is not None and offset.partial_rows >= 2:   # a held row of a replayed transaction sent
            raise Crash(f"killed in the replay at {offset.partial_gtid} row {offset.partial_rows}")

    crashing = CaptureThread(settings)
    crashing.capture.on_commit = die_in_the_replay
    crashing.__enter__()
    crashing.thread.join(30)
    assert isinstance(crashing.error, Crash), crashing.error
    assert crashing.capture.committed.replay is not None
    crashing.error = None
    crashing.join()

    with CaptureThread(settings) as cap:                 # goes on with the replay
        stock = scratch.read_topic(scratch.topic("stock_available"), min_count=stock_rows + 8, timeout=60)
        scratch.sql(ORDER_INSERT.format(id=710))
        cap.wait_committed(scratch.gtid_seq())
        assert cap.capture.committed.replay is None and cap.capture.committed.held == ()
    updates = [e.value for e in stock if e.value["op"] == "u"]
    assert [(u["after"]["quantity"], u["transaction"]["total_order"]) for u in updates] == [
        (f"{n}{r}", order) for n in range(4) for r, order in (("a", 2), ("b", 3))]
    orders = scratch.read_topic(scratch.topic("orders"), min_count=10)
    assert [e.key["id_order"] for e in orders if e.value["op"] == "c"] == [700, 701, 702, 703, 710]
