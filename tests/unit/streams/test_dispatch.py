"""streams/dispatch.py: what the agents do with one record. The kind header picks the decoder and
the handlers; an unknown kind or a failing handler dead-letters the record and the next one is
processed; our own sinks' writes (origin header) are not ownership violations."""
from __future__ import annotations

import datetime as dt
import json
import pickle
from decimal import Decimal

from pssync.schemas.headers import ORIGIN_HEADER
from pssync.streams.routes import KIND_HEADER
from tests.unit.streams.hub_support import UTC, Shop, Stock, change, run


def test_an_unknown_kind_is_dead_lettered_and_the_next_record_is_processed():
    shop = Shop()
    shop.record("no-such-kind", b"whatever")
    (letter,) = shop.rec.on("dead_letters")
    assert letter.key == b"shop-events"
    assert letter.json == {"source": "shop-events", "reason": "unknown event kind 'no-such-kind'", "record": {}}
    assert letter.headers == [("__connect.errors.topic", b"shop-events"),
                              ("__connect.errors.exception.message", b"unknown event kind 'no-such-kind'")]
    shop.record("pssync_product_map", change({"id_product": 8, "id_product_attribute": 0, "sku": "MUG"}))
    assert shop.state.refs.row(0, "MUG") == (8, 0)


def test_a_failing_handler_dead_letters_its_record_with_the_reason_and_the_value():
    shop = Shop()
    value = pickle.dumps({"sku": "MUG", "version": "v1"})          # no list_price
    shop.record("erp.price", value)
    (letter,) = shop.rec.on("dead_letters")
    body = letter.json
    assert letter.key == b"shop-events:erp.price" and body["source"] == "shop-events:erp.price"
    assert body["reason"] == "KeyError: 'list_price'" and body["record"] == {"value_hex": value.hex()}


def test_records_of_each_kind_reach_their_handlers_decoded():
    shop = Shop()
    shop.record("pssync_product_map", change({"id_product": 8, "id_product_attribute": 0, "sku": "MUG"}))
    at = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    shop.record("erp.price", {"sku": "MUG", "list_price": Decimal("3.10"), "changed_at": at, "version": "v1"})
    shop.record("reassert", json.dumps({"sku": "MUG", "column": "price", "trigger": "reassert:g:product"}).encode())
    shop.record("erp.order_status", {"erp_order_id": "SO-1", "shop_reference": "REF-9", "state": "shipped",
                                     "changed_at": at, "version": "v5"})
    assert [s.json["type"] for s in shop.rec.on("shop_commands")] == ["price", "price", "order_state"]
    shop.record("prune", json.dumps({"cutoff_ms": 0}).encode())
    assert shop.rec.on("dead_letters") == []


def test_an_order_header_goes_to_the_orders_and_to_the_stock_facts():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    shop.record("order_detail", change({"id_order_detail": 4, "id_order": 2, "product_id": 8,
                                        "product_attribute_id": 0, "product_quantity": 1}))
    assert 2 in shop.state.details and shop.state.order_stock[2]["lines"] == {"4": ["MUG", "1", 8, 0]}
    shop.record("orders", change({"id_order": 2, "current_state": 6, "id_shop": 1, "id_shop_group": 1,
                                  "id_customer": 1}))
    assert shop.state.orders[2]["row"]["current_state"] == 6
    assert [s.kind for s in shop.rec.on("hub:stock")] == ["stock.line"]   # no configuration: not a cancel state


def test_an_echo_of_our_own_sink_is_not_a_violation_but_still_a_stock_row():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    before = {"id_stock_available": 3, "id_product": 8, "id_product_attribute": 0, "id_shop": 1, "quantity": 5,
              "out_of_stock": 0}
    after = before | {"quantity": 9, "out_of_stock": 1}
    shop.record("stock_available", change(after, before=before), headers={ORIGIN_HEADER: b"sink"})
    assert shop.rec.on("violations") == []
    (row,) = shop.rec.on("hub:stock")
    assert row.json["echo"] is True and row.json["quantity"] == 9
    shop.record("stock_available", change(after, before=before))
    assert [v.json["column"] for v in shop.rec.on("violations")] == ["out_of_stock"]


def test_an_undecodable_acknowledgement_is_dead_lettered_as_from_the_acks_topic():
    shop = Shop()
    shop.record("acks", b'{"command_id": 1}')
    (letter,) = shop.rec.on("dead_letters")
    assert letter.key == b"acks-topic" and letter.json["record"] == {}
    assert letter.json["reason"].startswith("not Avro in the Confluent wire format")


def test_stock_events_unknown_kinds_and_bad_keys_are_dead_lettered():
    stock = Stock()
    stock.record("stock.nothing", 8, {})
    run(stock.events(b"sku:MUG", b"{}", {KIND_HEADER: b"stock.level"}))
    first, second = stock.rec.on("dead_letters")
    assert first.key == b"stock-events" and first.json["reason"] == "unknown event kind 'stock.nothing'"
    assert second.key == b"stock-events:stock.level" and second.json["reason"].startswith("ValueError")
