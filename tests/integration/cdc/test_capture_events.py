"""Row changes in PrestaShop's tables -> exactly the expected Debezium-shaped Avro events."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from confluent_kafka.admin import AdminClient
from pssync.bus.registry import registry_client

from tests.integration.support import CaptureThread, read_topics

pytestmark = pytest.mark.integration
UTC = dt.timezone.utc

ORDER_INSERT = (
    "INSERT INTO ps_orders (id_order, reference, id_shop_group, id_shop, id_carrier, id_lang, "
    "id_customer, id_cart, id_currency, id_address_delivery, id_address_invoice, current_state, "
    "secure_key, payment, conversion_rate, module, total_discounts, total_paid, total_paid_tax_incl, "
    "total_paid_tax_excl, total_paid_real, total_products, total_products_wt, total_shipping, "
    "total_shipping_tax_incl, total_shipping_tax_excl, carrier_tax_rate, invoice_number, "
    "delivery_number, invoice_date, delivery_date, valid, date_add, date_upd) VALUES "
    "({id}, 'QWERTYUIO', 1, 1, 1, 1, 1, {id}, 1, 2, 2, 1, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', "
    "'Payment by check', 1.000000, 'ps_checkpayment', 0, 30.900000, 30.900000, 30.900000, 0, "
    "23.900000, 23.900000, 7.000000, 7.000000, 7.000000, 0.000, 0, 0, '0000-00-00 00:00:00', "
    "'0000-00-00 00:00:00', 0, '2026-11-20 09:15:00', '2026-11-20 09:15:00')"
)

# table -> (insert, update, delete, primary key value) using PrestaShop's real columns
CHANGES = {
    "orders": (ORDER_INSERT.format(id=500),
               "UPDATE ps_orders SET current_state=2, valid=1, date_upd='2026-11-20 09:20:00' WHERE id_order=500",
               "DELETE FROM ps_orders WHERE id_order=500", {"id_order": 500}),
    "order_detail": (
        "INSERT INTO ps_order_detail (id_order_detail, id_order, id_shop, product_id, "
        "product_attribute_id, product_name, product_quantity, product_price, unit_price_tax_incl, "
        "unit_price_tax_excl, total_price_tax_incl, total_price_tax_excl, product_reference) VALUES "
        "(500, 1, 1, 1, 1, 'Hummingbird printed t-shirt - Size : S- Color : White', 2, 23.900000, "
        "23.900000, 23.900000, 47.800000, 47.800000, 'demo_1')",
        "UPDATE ps_order_detail SET product_quantity_refunded=1 WHERE id_order_detail=500",
        "DELETE FROM ps_order_detail WHERE id_order_detail=500", {"id_order_detail": 500}),
    "order_history": (
        "INSERT INTO ps_order_history (id_order_history, id_employee, id_order, id_order_state, date_add) "
        "VALUES (500, 0, 1, 2, '2026-11-20 09:20:00')",
        "UPDATE ps_order_history SET id_employee=1 WHERE id_order_history=500",
        "DELETE FROM ps_order_history WHERE id_order_history=500", {"id_order_history": 500}),
    "stock_available": (
        "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, id_shop, "
        "id_shop_group, quantity, physical_quantity, reserved_quantity, depends_on_stock, out_of_stock, "
        "location) VALUES (500, 900, 0, 1, 0, 10, 10, 0, 0, 2, '')",
        "UPDATE ps_stock_available SET quantity=quantity-3 WHERE id_stock_available=500",
        "DELETE FROM ps_stock_available WHERE id_stock_available=500", {"id_stock_available": 500}),
    "product": (
        "INSERT INTO ps_product (id_product, reference, price, wholesale_price, active, product_type, "
        "date_add, date_upd) VALUES (500, 'demo_500', 11.900000, 5.490000, 1, 'standard', "
        "'2026-11-20 09:00:00', '2026-11-20 09:00:00')",
        "UPDATE ps_product SET price=12.500000 WHERE id_product=500",
        "DELETE FROM ps_product WHERE id_product=500", {"id_product": 500}),
    "product_shop": (
        "INSERT INTO ps_product_shop (id_product, id_shop, price, active, date_add, date_upd) "
        "VALUES (500, 1, 11.900000, 1, '2026-11-20 09:00:00', '2026-11-20 09:00:00')",
        "UPDATE ps_product_shop SET price=12.500000 WHERE id_product=500 AND id_shop=1",
        "DELETE FROM ps_product_shop WHERE id_product=500 AND id_shop=1", {"id_product": 500, "id_shop": 1}),
    "product_attribute": (
        "INSERT INTO ps_product_attribute (id_product_attribute, id_product, reference, price) "
        "VALUES (500, 1, 'demo_1', 0.000000)",
        "UPDATE ps_product_attribute SET price=2.000000 WHERE id_product_attribute=500",
        "DELETE FROM ps_product_attribute WHERE id_product_attribute=500", {"id_product_attribute": 500}),
    "specific_price": (
        "INSERT INTO ps_specific_price (id_specific_price, id_product, id_shop, price, from_quantity, "
        "reduction, reduction_tax, reduction_type, `from`, `to`) VALUES (500, 1, 1, -1, 1, 0.200000, 1, "
        "'percentage', '0000-00-00 00:00:00', '0000-00-00 00:00:00')",
        "UPDATE ps_specific_price SET reduction=0.250000 WHERE id_specific_price=500",
        "DELETE FROM ps_specific_price WHERE id_specific_price=500", {"id_specific_price": 500}),
}


def test_insert_update_delete_in_each_captured_table(scratch):
    with CaptureThread(scratch.settings()) as cap:
        cap.wait_committed(scratch.gtid_seq())
        for table, (insert, update, delete, _) in CHANGES.items():
            scratch.sql(insert)
            scratch.sql(update)
            scratch.sql(delete)
        cap.wait_committed(scratch.gtid_seq())

    for table, (_, _, _, key) in CHANGES.items():
        events = [e for e in scratch.read_topic(scratch.topic(table), min_count=1)
                  if e.value is None or e.value["op"] != "r"]
        ops = [e.value["op"] if e.value else "tombstone" for e in events]
        assert ops == ["c", "u", "d", "tombstone"], f"{table}: {ops}"
        assert all(e.key == key for e in events), table
        created, updated, deleted = (e.value for e in events[:3])
        assert created["before"] is None and created["after"] is not None
        assert updated["before"] == created["after"]
        assert deleted["before"] == updated["after"] and deleted["after"] is None
        for v in (created, updated, deleted):
            assert v["source"]["table"] == f"ps_{table}"
            assert v["source"]["db"] == scratch.database
            assert v["source"]["snapshot"] == "false"
            assert v["source"]["gtid"] == v["transaction"]["id"]
            assert v["transaction"]["total_order"] == 1


def test_primary_key_update_is_a_delete_of_the_old_key_and_a_create_of_the_new(scratch):
    """As Debezium emits it: a key-based consumer (a JDBC sink, a compacted topic) must not keep
    the row under its old key."""
    with CaptureThread(scratch.settings(["stock_available"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_stock_available SET id_stock_available=1000, quantity=5 WHERE id_stock_available=2",
                    "UPDATE ps_stock_available SET quantity=6 WHERE id_stock_available=1000")
        cap.wait_committed(scratch.gtid_seq())

    events = [e for e in scratch.read_topic(scratch.topic("stock_available"), min_count=1)
              if e.value is None or e.value["op"] != "r"]
    assert [(e.key["id_stock_available"], e.value["op"] if e.value else "tombstone") for e in events] == \
        [(2, "d"), (2, "tombstone"), (1000, "c"), (1000, "u")]
    deleted, created, updated = events[0].value, events[2].value, events[3].value
    assert deleted["before"]["id_stock_available"] == 2 and deleted["after"] is None
    assert created["before"] is None and created["after"]["quantity"] == 5
    assert events[0].headers["__debezium.newkey"] == b'{"id_stock_available": 1000}'
    assert events[2].headers["__debezium.oldkey"] == b'{"id_stock_available": 2}'
    # one source transaction, its events numbered in turn
    assert [v["transaction"]["total_order"] for v in (deleted, created, updated)] == [1, 2, 3]
    assert deleted["transaction"]["id"] == created["transaction"]["id"] == updated["transaction"]["id"]


def test_partial_zero_dates_are_the_same_in_snapshot_and_stream(scratch):
    """'1985-06-00' (PrestaShop's birthday without a day) is null from both readers: the snapshot
    row is never dead-lettered and missing."""
    scratch.sql("UPDATE ps_customer SET birthday='1985-06-00' WHERE id_customer=1")
    with CaptureThread(scratch.settings(["customer"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_customer SET birthday='2024-00-00', note='x' WHERE id_customer=1")
        cap.wait_committed(scratch.gtid_seq())
    events = [e for e in scratch.read_topic(scratch.topic("customer"), min_count=2) if e.key["id_customer"] == 1]
    assert [(e.value["op"], e.value["after"]["birthday"]) for e in events] == [("r", None), ("u", None)]
    assert not scratch.read_topic(f"{scratch.prefix}.cdc.dead-letter", settle=0)


def epoch_ms(wall_clock: dt.datetime) -> int:
    return int((wall_clock - dt.datetime(1970, 1, 1)).total_seconds() * 1000)


def test_prestashop_values_decode_exactly(scratch):
    with CaptureThread(scratch.settings(["orders"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql(ORDER_INSERT.format(id=600))
        scratch.sql("UPDATE ps_orders SET total_paid_tax_incl=99999999999999.999999, "
                    "conversion_rate=1.234567, invoice_date='2026-11-21 08:00:01' WHERE id_order=600")
        cap.wait_committed(scratch.gtid_seq())
    events = [e for e in scratch.read_topic(scratch.topic("orders"), min_count=7) if e.value["op"] != "r"]
    created, updated = events[0].value["after"], events[1].value["after"]
    # zero dates in NOT NULL columns are the epoch, as Debezium sends them (null only where nullable)
    assert created["invoice_date"] == 0 and created["delivery_date"] == 0
    # DATETIME: io.debezium.time.Timestamp, the wall clock in epoch milliseconds read as UTC
    assert created["date_add"] == epoch_ms(dt.datetime(2026, 11, 20, 9, 15))
    assert created["total_paid_tax_incl"] == Decimal("30.900000")
    assert updated["total_paid_tax_incl"] == Decimal("99999999999999.999999")
    assert updated["conversion_rate"] == Decimal("1.234567")
    assert updated["invoice_date"] == epoch_ms(dt.datetime(2026, 11, 21, 8, 0, 1))
    assert created["secure_key"] == "b44a6d9efd7a0076a0fbce6b15eaf3b1"


def test_snapshot_rows_then_stream_without_gap(scratch):
    with CaptureThread(scratch.settings(["orders", "order_detail"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql(ORDER_INSERT.format(id=700))
        cap.wait_committed(scratch.gtid_seq())
    events = scratch.read_topic(scratch.topic("orders"), min_count=6)
    snap = [e for e in events if e.value["op"] == "r"]
    assert sorted(e.key["id_order"] for e in snap) == [1, 2, 3, 4, 5]   # the 5 demo orders
    # Debezium's markers: the snapshot's first record, each table's first and last, its last record
    assert [e.value["source"]["snapshot"] for e in snap] == ["first", "true", "true", "true", "last_in_data_collection"]
    assert [e.value["op"] for e in events[5:]] == ["c"]
    details = scratch.read_topic(scratch.topic("order_detail"), min_count=7)
    assert len(details) == 7 and [e.value["source"]["snapshot"] for e in details] == [
        "first_in_data_collection", *["true"] * 5, "last"]


def test_multi_row_transaction_carries_one_id_and_positions(scratch):
    with CaptureThread(scratch.settings(["orders", "order_detail", "order_history", "stock_available"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql(
            ORDER_INSERT.format(id=800),
            "INSERT INTO ps_order_detail (id_order_detail, id_order, id_shop, product_id, product_attribute_id, "
            "product_name, product_quantity, total_price_tax_incl) VALUES "
            "(800, 800, 1, 1, 1, 'T-shirt S white', 1, 23.900000), "
            "(801, 800, 1, 6, 0, 'Mug The best is yet to come', 2, 23.800000)",
            "INSERT INTO ps_order_history (id_order_history, id_employee, id_order, id_order_state, date_add) "
            "VALUES (800, 0, 800, 1, '2026-11-20 09:15:00')",
            "UPDATE ps_stock_available SET quantity = quantity - 1 WHERE id_product=1 AND id_product_attribute IN (0, 1)",
        )
        cap.wait_committed(scratch.gtid_seq())
    topics = [scratch.topic(t) for t in ("orders", "order_detail", "order_history", "stock_available")]
    events = [e for e in read_topics(scratch, topics, min_count=10) if e.value and e.value["op"] != "r"]
    assert len(events) == 6
    txn_ids = {e.value["transaction"]["id"] for e in events}
    assert len(txn_ids) == 1
    assert sorted(e.value["transaction"]["total_order"] for e in events) == [1, 2, 3, 4, 5, 6]
    details = sorted((e.value["transaction"]["data_collection_order"] for e in events
                      if e.topic.endswith("ps_order_detail")))
    assert details == [1, 2]
    # Debezium's transaction metadata: BEGIN, then END with the count per table
    (txn_id,) = txn_ids
    markers = [e.value for e in read_topics(scratch, [f"{scratch.prefix}.transaction"], min_count=2)
               if e.key == {"id": txn_id}]
    assert [m["status"] for m in markers] == ["BEGIN", "END"]
    assert markers[1]["event_count"] == 6
    db = scratch.database
    assert markers[1]["data_collections"] == [
        {"data_collection": f"{db}.ps_order_detail", "event_count": 2},
        {"data_collection": f"{db}.ps_order_history", "event_count": 1},
        {"data_collection": f"{db}.ps_orders", "event_count": 1},
        {"data_collection": f"{db}.ps_stock_available", "event_count": 2}]


def test_table_outside_include_list_is_ignored(scratch):
    settings = scratch.settings(["orders"])
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_customer SET firstname='Jane' WHERE id_customer=1")
        scratch.sql("UPDATE ps_stock_available SET quantity=1 WHERE id_stock_available=1")
        scratch.sql(ORDER_INSERT.format(id=900))
        cap.wait_committed(scratch.gtid_seq())
    topics = AdminClient({"bootstrap.servers": scratch.stack.kafka_bootstrap}).list_topics(timeout=10).topics
    ours = sorted(t for t in topics if t.startswith(scratch.prefix + "."))
    assert ours == sorted([f"{scratch.prefix}.offsets", f"{scratch.prefix}.cdc.dead-letter",
                           f"{scratch.prefix}.cdc.signals", f"{scratch.prefix}.transaction",
                           scratch.topic("orders")])
    events = scratch.read_topic(scratch.topic("orders"), min_count=6)
    assert [e.value["op"] for e in events if e.value["op"] != "r"] == ["c"]


def test_schema_change_mid_stream_registers_new_versions(scratch):
    with CaptureThread(scratch.settings(["orders"])) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql(ORDER_INSERT.format(id=1000))
        scratch.sql("ALTER TABLE ps_orders ADD COLUMN erp_reference VARCHAR(64) NULL AFTER reference")
        scratch.sql("UPDATE ps_orders SET erp_reference='SO-1000' WHERE id_order=1000")
        scratch.sql("ALTER TABLE ps_orders MODIFY COLUMN reference VARCHAR(255) NULL")
        scratch.sql("UPDATE ps_orders SET reference='A-MUCH-LONGER-REFERENCE' WHERE id_order=1000")
        scratch.sql("ALTER TABLE ps_orders DROP COLUMN gift_message")
        scratch.sql("UPDATE ps_orders SET current_state=4 WHERE id_order=1000")
        cap.wait_committed(scratch.gtid_seq())
    events = [e for e in scratch.read_topic(scratch.topic("orders"), min_count=9) if e.value["op"] != "r"]
    assert [e.value["op"] for e in events] == ["c", "u", "u", "u"]
    first, with_col, longer, dropped = (e.value["after"] for e in events)
    assert "erp_reference" not in first and "gift_message" in first
    assert with_col["erp_reference"] == "SO-1000"
    assert longer["reference"] == "A-MUCH-LONGER-REFERENCE"
    assert "gift_message" not in dropped and dropped["current_state"] == 4
    registry = registry_client(scratch.registry_url)
    versions = registry.get_versions(f"{scratch.topic('orders')}-value")
    assert len(versions) >= 3
    assert registry.get_compatibility(f"{scratch.topic('orders')}-value") == "BACKWARD"


def test_year_zero_and_a_datetime_in_a_dst_gap_read_the_same_in_snapshot_and_stream(scratch):
    """YEAR 0000 is 0 whichever reader saw it (the binlog reader says 1900); a DATETIME the shop wrote
    inside a daylight-saving gap (Paris, 2026-03-29 02:30, a time that never happened there) is kept
    as written, as Debezium keeps it, even with the shop's zone set: the zone is the readers' business."""
    scratch.sql("CREATE TABLE pssync_times (id INT PRIMARY KEY, y YEAR NULL, d DATETIME NOT NULL)",
                "INSERT INTO pssync_times VALUES (1, 0000, '2026-03-29 02:30:00')")
    settings = scratch.settings(["orders"], extra_tables=["pssync_times"], datetime_zone="Europe/Paris")
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("INSERT INTO pssync_times VALUES (2, 0000, '2026-03-29 02:30:00')")
        cap.wait_committed(scratch.gtid_seq())
    topic = f"{scratch.prefix}.{scratch.database}.pssync_times"
    events = scratch.read_topic(topic, min_count=2)
    gap = epoch_ms(dt.datetime(2026, 3, 29, 2, 30))
    assert [(e.value["op"], e.value["after"]["y"], e.value["after"]["d"]) for e in events] == [
        ("r", 0, gap), ("c", 0, gap)]
