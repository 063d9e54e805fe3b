"""ERP changes and shop orders -> PrestaShop commands, through the real capture, Kafka, registry
and a Faust worker: stock without oversell (the classic race), prices with ownership violations
re-asserted, echo suppression, ERP order states and tracking."""
from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

import pymysql
import pytest
from confluent_kafka import Producer

from pssync.bus.registry import Registry
from pssync.devstack.shop import Line, place_order
from pssync.erp.base import Change, OrderStatus, Price, Product, Shipment, StockLevel
from pssync.prestashop.product_map import Mapping, ensure_table, set_mapping
from pssync.erp.topics import ErpEncoders, SnapshotPart
from pssync.sinks import synclog
from pssync.schemas.commands import OrderAck
from tests.integration.streams.test_orders_to_erp import (read_commands, start_worker, stop_worker,
                                                          streams_settings)
from tests.integration.support import CaptureThread, contracts

pytestmark = pytest.mark.integration
TABLES = ["orders", "order_detail", "order_history", "customer", "address", "currency", "configuration",
          "product", "product_shop"]
UTC = dt.timezone.utc


class ErpFeed:
    """Publishes ERP events exactly as `pssync erp poll` does (registered Avro, same topics)."""

    def __init__(self, settings) -> None:
        self.encoders = ErpEncoders(Registry(settings.registry), settings.erp.topic_prefix)
        self.producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
        self.n = 0

    def send(self, change: Change, snapshot: SnapshotPart | None = None) -> None:
        topic, key, value = self.encoders.encode(change, "tryton", snapshot)
        self.producer.produce(topic, key=key, value=value)
        self.producer.flush(10)

    def stock(self, sku: str, quantity: int, as_of: dt.datetime, snapshot: bool = True) -> None:
        self.n += 1
        level = StockLevel(sku, "22", Decimal(quantity), "WH", as_of, Decimal(quantity))
        self.send(Change("stock", sku, level, as_of, "22", f"v{self.n}"),
                  SnapshotPart(f"s{self.n}", 1, 1) if snapshot else None)


@contextmanager
def processors_running(scratch, settings, config, tmp_path) -> Iterator[CaptureThread]:
    """The capture (caught up with the scratch database) and a processor worker, for the block."""
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        worker = start_worker(config, tmp_path, "info")
        try:
            yield cap
        finally:
            stop_worker(worker)


def _settings(scratch, tmp_path):
    return streams_settings(scratch, tmp_path, TABLES)


def _map(scratch, *rows):
    conn = pymysql.connect(**scratch.stack.mysql_params(scratch.database))
    for product, attribute, sku in rows:
        set_mapping(conn, Mapping("tryton", product, attribute, sku, "22", "manual"))
    conn.close()


def _stock(commands, sku):
    return [c for c in commands if c["type"] == "stock" and c["sku"] == sku]


def test_order_racing_an_erp_snapshot_never_gives_stock_back(scratch, tmp_path):
    _map(scratch, (6, 0, "demo_11"))
    settings, config = _settings(scratch, tmp_path)
    feed = ErpFeed(settings)
    topic = settings.streams.shop_commands_topic
    with processors_running(scratch, settings, config, tmp_path) as cap:
        feed.stock("demo_11", 100, dt.datetime.now(UTC))
        first = read_commands(scratch, topic, min_count=1, timeout=90)
        assert [c["quantity"] for c in _stock(first, "demo_11")] == [100], first

        # The ERP measures its stock (100) ...
        measured = dt.datetime.now(UTC)
        time.sleep(0.2)
        # ... a shop order for 3 commits while that snapshot is in flight ...
        id_order = place_order(scratch.stack.mysql_params(), scratch.database, "ps_", [Line(6, 0, 3)],
                               state_key="PS_OS_PAYMENT")
        cap.wait_committed(scratch.gtid_seq())
        after_order = read_commands(scratch, topic, min_count=2, timeout=60)
        # ... and arrives after it: it does not account for the order, so 97 stays published
        feed.stock("demo_11", 100, measured)
        feed.stock("demo_11", 100, dt.datetime.now(UTC))   # a newer one that still lacks it
        time.sleep(3)
        # the ERP sink acknowledges the order; the next ERP level includes it
        acked = dt.datetime.now(UTC)
        ack = OrderAck(command_id="c1", action="create", id_order=id_order, shop_reference=f"X-{id_order}",
                       erp_order_id="S1", created=True, acked_at=acked, lines={"demo_11": Decimal(3)})
        p = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
        p.produce(settings.sinks.acks_topic, key=b"X", value=contracts().encode(settings.sinks.acks_topic, ack))
        p.flush(10)
        time.sleep(0.2)
        feed.stock("demo_11", 97, dt.datetime.now(UTC))
        final = read_commands(scratch, topic, min_count=4, timeout=60)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert [c["quantity"] for c in _stock(after_order, "demo_11")] == [100, 97], log
    quantities = [c["quantity"] for c in _stock(final, "demo_11")]
    assert quantities[0] == 100 and all(q == 97 for q in quantities[1:]), (quantities, log)
    last = _stock(final, "demo_11")[-1]
    assert id_order in last["known_orders"] and last["id_product"] == 6 and last["id_product_attribute"] == 0


def test_prices_violations_echo_states_and_tracking(scratch, tmp_path):
    _map(scratch, (6, 0, "demo_11"))
    settings, config = _settings(scratch, tmp_path)
    feed = ErpFeed(settings)
    topic = settings.streams.shop_commands_topic
    now = dt.datetime.now(UTC)
    synclog.ensure_tables(scratch.db)
    with processors_running(scratch, settings, config, tmp_path) as cap:
        feed.send(Change("price", "demo_11", Price("demo_11", "22", Decimal("12.5"), "EUR", now), now, "22", "p1"))
        read_commands(scratch, topic, min_count=1, timeout=90)
        # the back office edits an ERP-owned price: violation, and the ERP value is sent again
        scratch.sql("UPDATE ps_product SET price = 9.99 WHERE id_product = 6")
        # our own sink writes the same column: recognised by its echo marker, not a violation
        with scratch.db.cursor() as cur:
            cur.execute("BEGIN")
            synclog.mark_echo(scratch.db, "shop-db-test")
            cur.execute("UPDATE ps_product SET price = 12.5 WHERE id_product = 6")
            cur.execute("COMMIT")
        cap.wait_committed(scratch.gtid_seq())
        feed.send(Change("product", "demo_11", Product("demo_11", "22", "Mug", False, now), now, "22", "pr1"))
        feed.send(Change("order_status", "7", OrderStatus("7", "KHWLILZLL-5", "processing", now), now, "7", "o1"))
        # the shipment is done after the sale is processing, as in the ERP: order states and
        # shipments are two ERP topics, with no order between them in Kafka
        deadline = time.monotonic() + 60
        while not any(c["type"] == "order_state" for c in read_commands(scratch, topic, min_count=4, timeout=60)):
            assert time.monotonic() < deadline, "the 'processing' state command did not come"
        feed.send(Change("shipment", "8", Shipment("8", "7", "KHWLILZLL-5", "done", "TRACK-1", "UPS", now),
                         now, "8", "sh1"))
        read_commands(scratch, topic, min_count=6, timeout=60)
        # the ERP rewrites the sale after its shipment, still 'processing' (newer): the order must not
        # step back; then it is cancelled (an end may follow any step), on the same topic and key
        later = now + dt.timedelta(minutes=1)
        feed.send(Change("order_status", "7", OrderStatus("7", "KHWLILZLL-5", "processing", later), later, "7", "o2"))
        feed.send(Change("order_status", "7", OrderStatus("7", "KHWLILZLL-5", "cancelled", later), later, "7", "o3"))
        commands = read_commands(scratch, topic, min_count=7, timeout=60)
        violations = read_commands(scratch, settings.streams.violations_topic, min_count=1, timeout=20)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    prices = [c for c in commands if c["type"] == "price"]
    # the ERP price (sent when its event arrives, or when the mapping does if that comes later),
    # then the same value re-asserted after the back-office edit
    assert [(p["sku"], p["price"]) for p in prices] == [("demo_11", Decimal("12.500000"))] * 2, (commands, log)
    assert prices[0]["source_event_id"].split(":")[0] in ("erp-price", "mapping")
    assert prices[1]["source_event_id"].startswith("reassert:")
    assert [(v["column"], v["after"]) for v in violations if v["table"] == "ps_product"] == [("price", "9.990000")]
    states = [(c["id_order"], c["state_key"]) for c in commands if c["type"] == "order_state"]
    assert states == [(5, "PS_OS_PREPARATION"), (5, "PS_OS_SHIPPING"), (5, "PS_OS_CANCELED")], commands
    assert [(c["sku"], c["id_product"], c["active"]) for c in commands if c["type"] == "product"] == [
        ("demo_11", 6, False)]
    (tracking,) = [c for c in commands if c["type"] == "tracking"]
    assert tracking["id_order"] == 5 and tracking["tracking_number"] == "TRACK-1"


def test_shop_stock_drift_is_corrected_when_small_and_alerted_when_large(scratch, tmp_path):
    _map(scratch, (6, 0, "demo_11"))
    settings, config = streams_settings(scratch, tmp_path, [*TABLES, "stock_available"])
    feed = ErpFeed(settings)
    topic = settings.streams.shop_commands_topic
    where = "WHERE id_product = 6 AND id_product_attribute = 0 AND id_shop = 1"
    with processors_running(scratch, settings, config, tmp_path):
        feed.stock("demo_11", 100, dt.datetime.now(UTC))
        read_commands(scratch, topic, min_count=1, timeout=90)
        scratch.sql(f"UPDATE ps_stock_available SET quantity = 100 {where}")   # as the sink would
        time.sleep(2)
        scratch.sql(f"UPDATE ps_stock_available SET quantity = 99 {where}")    # one unit lost in the shop
        corrected = read_commands(scratch, topic, min_count=2, timeout=60)
        scratch.sql(f"UPDATE ps_stock_available SET quantity = 40 {where}")    # far off: a person decides
        alerts = read_commands(scratch, settings.streams.alerts_topic, min_count=1, timeout=60)
        after = read_commands(scratch, topic, min_count=2, timeout=10)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    fixes = [c for c in corrected if c["type"] == "stock" and c["source_event_id"].startswith("reconcile:")]
    assert [c["quantity"] for c in fixes] == [100], (corrected, log)
    assert [(a["sku"], a["shop_quantity"], a["computed"], a["delta"]) for a in alerts] == [("demo_11", 40, 100, 60)]
    assert len([c for c in after if c["source_event_id"].startswith("reconcile:")]) == 1, "large drift corrected"


def test_an_order_for_a_product_mapped_after_it_was_placed_counts_against_its_stock(scratch, tmp_path):
    """The ERP level of a SKU arrives before the shop product is mapped to it, and a shop order for
    that product is placed meanwhile (dead-lettered: unknown SKU). Once the mapping row arrives the
    order goes to the ERP, and until the ERP acknowledges it the published stock leaves its units out."""
    conn = pymysql.connect(**scratch.stack.mysql_params(scratch.database))
    ensure_table(conn)          # the mapping table exists (captured), still without product 8
    conn.close()
    settings, config = _settings(scratch, tmp_path)
    feed = ErpFeed(settings)
    topic = settings.streams.shop_commands_topic
    with processors_running(scratch, settings, config, tmp_path) as cap:
        feed.stock("late_8", 100, dt.datetime.now(UTC))
        id_order = place_order(scratch.stack.mysql_params(), scratch.database, "ps_", [Line(8, 0, 2)],
                               state_key="PS_OS_PAYMENT")
        cap.wait_committed(scratch.gtid_seq())
        letters = read_commands(scratch, settings.streams.dead_letter_topic, min_count=1, timeout=60)
        assert [d for d in letters if d.get("id_order") == id_order], letters
        _map(scratch, (8, 0, "late_8"))
        cap.wait_committed(scratch.gtid_seq())
        orders = read_commands(scratch, settings.streams.commands_topic, min_count=1, timeout=60)
        stock = read_commands(scratch, topic, min_count=2, timeout=60)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert [c["id_order"] for c in orders] == [id_order], (orders, log)
    quantities = [c["quantity"] for c in _stock(stock, "late_8")]
    assert quantities and quantities[-1] == 98, (quantities, log)
    assert id_order in _stock(stock, "late_8")[-1]["known_orders"]
