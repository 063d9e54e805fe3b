"""Several workers share multi-partition topics: the router re-keys every source event to the
processors' internal topics, so an order's header, lines and history (and a product's ERP level and
order lines) meet in one partition whichever source partition they came from."""
from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from confluent_kafka.admin import AdminClient

from pssync.devstack.shop import Line, place_order
from pssync.streams.cli import hub_topics
from tests.integration.streams.test_erp_to_shop import TABLES, ErpFeed, _map, _stock
from tests.integration.streams.test_orders_to_erp import (read_commands, start_worker, stop_worker,
                                                          streams_settings)
from tests.integration.support import CaptureThread

pytestmark = pytest.mark.integration
UTC = dt.timezone.utc


def wait_assigned(log: Path, pids: list[int], timeout: float = 90) -> None:
    """Until every worker has partitions of the shared group assigned (Faust logs it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if all(re.search(rf"\[{pid}\] \[INFO\] Setting newly assigned partitions", text) for pid in pids):
            return
        time.sleep(0.5)
    raise AssertionError(f"workers {pids} did not all get partitions: {log.read_text()[-3000:]}")


def test_two_workers_on_multi_partition_topics_build_every_order_once_and_keep_stock(scratch, tmp_path):
    _map(scratch, (6, 0, "demo_11"), (1, 1, "demo_1-1"))
    settings, config = streams_settings(scratch, tmp_path, TABLES)
    settings.kafka.topic_partitions = 3          # every source and output topic
    settings.streams.partitions = 4              # the processors' internal topics
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    feed = ErpFeed(settings)
    mysql = scratch.stack.mysql_params()
    placed: dict[int, list[Line]] = {}

    def order(lines: list[Line]) -> None:
        placed[place_order(mysql, scratch.database, "ps_", lines, state_key="PS_OS_PAYMENT")] = lines

    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        workers = [start_worker(config, tmp_path, "info"), start_worker(config, tmp_path, "info")]
        try:
            wait_assigned(tmp_path / "worker.log", [w.pid for w in workers])
            as_of = dt.datetime.now(UTC)
            feed.stock("demo_11", 100, as_of)
            feed.stock("demo_1-1", 50, as_of)
            time.sleep(0.5)
            for i in range(6):
                order([Line(6, 0, 1)] if i % 2 else [Line(1, 1, 2), Line(6, 0, 1)])
                time.sleep(0.3)
            cap.wait_committed(scratch.gtid_seq())
            read_commands(scratch, settings.streams.commands_topic, min_count=len(placed), timeout=60)
            workers[0].kill()                    # SIGKILL: the other worker takes its partitions over
            workers[0].wait(10)
            for i in range(4):
                order([Line(1, 1, 1)] if i % 2 else [Line(6, 0, 2)])
                time.sleep(0.3)
            workers[0] = start_worker(config, tmp_path, "info")   # and gives some back
            for _ in range(2):
                order([Line(6, 0, 1), Line(1, 1, 1)])
            cap.wait_committed(scratch.gtid_seq())
            found = read_commands(scratch, settings.streams.commands_topic, min_count=len(placed), timeout=150)
            shop = read_commands(scratch, settings.streams.shop_commands_topic, min_count=2, timeout=60)
        finally:
            for worker in workers:
                stop_worker(worker)
    full_log = (tmp_path / "worker.log").read_text()
    log = full_log[-4000:]
    builders = set(re.findall(r"\[(\d+)\] \[INFO\] order \d+: create command", full_log))
    assert len(builders) >= 2, ("one worker did all the work", builders)

    admin = AdminClient({"bootstrap.servers": scratch.stack.kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    assert len(topics[scratch.topic("order_detail")].partitions) == 3
    assert [len(topics[t].partitions) for t in hub_topics(settings)] == [4, 4]

    ours = [c for c in found if c["id_order"] in placed]
    assert sorted({c["id_order"] for c in ours}) == sorted(placed), ("a command was lost", log)
    for command in ours:            # every line of the order, though lines and header came apart
        lines = placed[command["id_order"]]
        got = sorted((l["sku"], l["quantity"]) for l in command["lines"] if l["kind"] == "product")
        want = sorted(("demo_11" if l.id_product == 6 else "demo_1-1", Decimal(l.quantity)) for l in lines)
        assert got == want, (command, log)
    assert all(len({c["command_id"] for c in ours if c["id_order"] == o}) == 1 for o in placed)

    ordered = {"demo_11": 0, "demo_1-1": 0}
    for lines in placed.values():
        for line in lines:
            ordered["demo_11" if line.id_product == 6 else "demo_1-1"] += line.quantity
    assert _stock(shop, "demo_11")[-1]["quantity"] == 100 - ordered["demo_11"], (_stock(shop, "demo_11"), log)
    assert _stock(shop, "demo_1-1")[-1]["quantity"] == 50 - ordered["demo_1-1"], (_stock(shop, "demo_1-1"), log)
