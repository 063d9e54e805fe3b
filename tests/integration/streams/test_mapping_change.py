"""A SKU moved from one shop product to another (`pssync erp mapping set --reassign`), through the
real capture, Kafka, registry and a Faust worker: the processors re-key it. The ERP level held for
the SKU goes to its new product, the new product's orders go out with it, the old product's orders
wait for a mapping, and no stock event of either product is dead-lettered."""
from __future__ import annotations

import datetime as dt

import pymysql
import pytest

from pssync.devstack.shop import Line, place_order
from pssync.prestashop.product_map import Mapping, set_mapping
from tests.integration.streams.test_erp_to_shop import ErpFeed, _map, _settings, _stock, processors_running
from tests.integration.streams.test_orders_to_erp import read_commands

pytestmark = pytest.mark.integration
UTC = dt.timezone.utc


def _reassign(scratch, product: int, attribute: int, sku: str):
    conn = pymysql.connect(**scratch.stack.mysql_params(scratch.database))
    try:
        return set_mapping(conn, Mapping("tryton", product, attribute, sku, "22", "manual"), reassign=True)
    finally:
        conn.close()


def test_a_sku_reassigned_to_another_product_is_rekeyed_by_the_processors(scratch, tmp_path):
    _map(scratch, (7, 0, "demo_12"), (8, 0, "demo_13"))
    settings, config = _settings(scratch, tmp_path)
    feed = ErpFeed(settings)
    topic = settings.streams.shop_commands_topic
    params = scratch.stack.mysql_params()
    with processors_running(scratch, settings, config, tmp_path) as cap:
        # deltas, not snapshots: a value already published for the SKU (to product 7) must still
        # be sent to its new product
        feed.stock("demo_12", 50, dt.datetime.now(UTC), snapshot=False)
        feed.stock("demo_13", 30, dt.datetime.now(UTC), snapshot=False)
        before = read_commands(scratch, topic, min_count=2, timeout=90)
        assert sorted((c["sku"], c["id_product"], c["quantity"]) for c in before if c["type"] == "stock") == [
            ("demo_12", 7, 50), ("demo_13", 8, 30)], before

        change = _reassign(scratch, 8, 0, "demo_12")        # product 8 had demo_13, product 7 had demo_12
        cap.wait_committed(scratch.gtid_seq())
        moved = read_commands(scratch, topic, min_count=3, timeout=60)

        new_order = place_order(params, scratch.database, "ps_", [Line(8, 0, 2)], state_key="PS_OS_PAYMENT")
        old_order = place_order(params, scratch.database, "ps_", [Line(7, 0, 1)], state_key="PS_OS_PAYMENT")
        cap.wait_committed(scratch.gtid_seq())
        orders = read_commands(scratch, settings.streams.commands_topic, min_count=1, timeout=60)
        feed.stock("demo_12", 40, dt.datetime.now(UTC), snapshot=False)
        feed.stock("demo_13", 25, dt.datetime.now(UTC), snapshot=False)   # no longer mapped: nothing
        final = read_commands(scratch, topic, min_count=5, timeout=60)
        letters = read_commands(scratch, settings.streams.dead_letter_topic, min_count=1, timeout=30)
    log = (tmp_path / "worker.log").read_text()[-4000:]
    assert (change.sku, change.row, change.taken_from, change.replaced_sku) == ("demo_12", (8, 0), (7, 0), "demo_13")
    # the ERP level held for demo_12 is sent again, now to product 8
    assert [(c["id_product"], c["quantity"]) for c in _stock(moved, "demo_12")] == [(7, 50), (8, 50)], (moved, log)
    stock_letters = [d for d in letters if str(d.get("source", "")).startswith("stock-events")]
    assert stock_letters == [], (stock_letters, log)
    # product 8's order goes out as demo_12; product 7's waits for a mapping (the demo shop's own
    # orders, of unmapped products, are dead-lettered as ever)
    ours = [c for c in orders if c["id_order"] in (new_order, old_order)]
    assert [c["id_order"] for c in ours] == [new_order], (orders, log)
    assert [l["sku"] for l in ours[0]["lines"] if l["kind"] == "product"] == ["demo_12"]
    (waiting,) = [d for d in letters if d.get("id_order") == old_order]
    assert "(7, 0)" in waiting["reason"], waiting
    # demo_12's stock lands on product 8, less its order; demo_13 is nobody's any more
    assert [(c["id_product"], c["quantity"]) for c in _stock(final, "demo_12")][2:] == [(8, 48), (8, 38)], (final, log)
    assert [c["quantity"] for c in _stock(final, "demo_13")] == [30], (final, log)
