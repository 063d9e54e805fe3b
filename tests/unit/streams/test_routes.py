"""Which internal topic and key each event is copied to (streams.routes)."""
import pytest

from pssync.streams.routes import BROADCAST, Unroutable, header, hub_topic_name, routes


def change(**after):
    return {"op": "c", "before": None, "after": after}


def test_order_rows_and_acknowledgements_go_by_order():
    assert routes("orders", change(id_order=7, current_state=2)) == [("shop", "order:7")]
    assert routes("order_detail", change(id_order=7, id_order_detail=70)) == [("shop", "order:7")]
    assert routes("order_history", {"op": "d", "before": {"id_order": 7}, "after": None}) == [("shop", "order:7")]
    assert routes("acks", {"id_order": 7}) == [("shop", "order:7")]


def test_reference_rows_go_to_every_partition_and_the_mapping_also_to_its_product():
    assert routes("customer", change(id_customer=1)) == [("shop", BROADCAST)]
    assert routes("configuration", change(id_configuration=1)) == [("shop", BROADCAST)]
    assert routes("pssync_product_map", change(id_product=6, id_product_attribute=0, sku="demo_11")) == [
        ("shop", BROADCAST), ("stock", "product:6")]
    moved = {**change(id_product=7, id_product_attribute=0, sku="demo_12"),
             "before": {"id_product": 6, "id_product_attribute": 0, "sku": "demo_12"}}
    assert routes("pssync_product_map", moved) == [("shop", BROADCAST), ("stock", "product:7"), ("stock", "product:6")]


def test_erp_values_go_by_sku_and_product_rows_by_product():
    assert routes("erp.stock", {"sku": "demo_1-1", "quantity": 3}) == [("shop", "sku:demo_1-1")]
    assert routes("erp.price", {"sku": "X"}) == [("shop", "sku:X")]
    assert routes("stock_available", change(id_product=6, id_product_attribute=1)) == [("shop", "product:6")]
    assert routes("specific_price", change(id_product=6)) == [("shop", "product:6")]


def test_an_event_without_its_key_or_of_an_unknown_kind_is_unroutable_with_the_reason():
    with pytest.raises(Unroutable, match="order_detail event has no id_order"):
        routes("order_detail", change(id_order_detail=1))
    with pytest.raises(Unroutable, match="erp.stock event has no sku"):
        routes("erp.stock", {"quantity": 1})
    with pytest.raises(Unroutable, match="no route for 'carrier'"):
        routes("carrier", change(id_carrier=1))


def test_headers_are_read_from_mappings_and_pairs():
    assert header([("pssync.kind", b"orders")], "pssync.kind") == b"orders"
    assert header({"a": b"1"}, "b") is None and header(None, "a") is None
    assert hub_topic_name("app-v4", "shop") == "app-v4-shop-events"


def test_erp_order_states_and_shipments_go_by_erp_order():
    assert routes("erp.order_status", {"erp_order_id": "S7", "state": "done"}) == [("shop", "erp-order:S7")]
    assert routes("erp.shipment", {"erp_order_id": "S7", "erp_shipment_id": "P1"}) == [("shop", "erp-order:S7")]


def test_the_router_puts_a_key_where_faust_would():
    from aiokafka.partitioner import DefaultPartitioner

    from pssync.streams.router import partition_for

    for key in ("order:7", "sku:demo_1-1", "product:6"):
        assert partition_for(key, 4) == DefaultPartitioner()(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3])
    assert partition_for("order:7", 1) == 0
