"""streams/outputs.py: what each output puts on its topic (keys, values, headers): the exact bytes
of the internal hub events, and the contracts as registered Avro, so a change of format is a
visible change of this test."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pssync.schemas.codec import ALERT, PROCESSOR_DEAD_LETTER, VIOLATION
from tests.unit.streams.recording import CODEC, Recorder, run

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


def test_stock_events_are_json_with_the_product_last_and_decimals_and_times_as_text():
    rec = Recorder()
    run(rec.outputs.stock_event("8", "stock.level", sku="MUG", quantity=Decimal("2.50"), as_of=AT,
                                id=uuid.UUID(int=1), day=AT.date()))
    (sent,) = rec.sent
    assert (sent.topic, sent.key, sent.partition) == ("hub:stock", b"product:8", None)
    assert sent.headers == {"pssync.kind": b"stock.level"}
    assert sent.value == (b'{"sku": "MUG", "quantity": "2.50", "as_of": "2024-05-01T10:00:00+00:00", '
                          b'"id": "00000000-0000-0000-0000-000000000001", "day": "2024-05-01", "id_product": 8}')


def test_violations_are_keyed_by_the_rows_sorted_key_and_registered_avro():
    rec = Recorder()
    run(rec.outputs.violation({"id_shop": 1, "id_product": 8}, {
        "table": "ps_product", "column": "price", "before": Decimal("1.0"), "after": Decimal("2.5"),
        "owner": "erp", "entity": "product", "gtid": "0-1-9", "ts_ms": 5}))
    (sent,) = rec.sent
    assert sent.key == b'{"id_product": 8, "id_shop": 1}' and sent.headers is None
    assert CODEC.decode_record(sent.value, "t", VIOLATION) == {
        "table": "ps_product", "column": "price", "key": {"id_shop": 1, "id_product": 8}, "before": "1.0",
        "after": "2.5", "owner": "erp", "entity": "product", "gtid": "0-1-9", "ts_ms": 5}


def test_dead_letters_name_where_they_come_from():
    rec = Recorder()
    run(rec.outputs.dead_letter_record("shop-events:orders", "KeyError: 'x'", {"value_hex": "00"}))
    run(rec.outputs.dead_letter_order(7, "no SKU", {"amount": Decimal("3")}))
    record, order = rec.sent
    assert record.key == b"shop-events:orders"
    assert CODEC.decode_record(record.value, "t", PROCESSOR_DEAD_LETTER) == {
        "source": "shop-events:orders", "reason": "KeyError: 'x'", "record": '{"value_hex": "00"}'}
    assert record.headers == [("__connect.errors.topic", b"shop-events:orders"),
                              ("__connect.errors.exception.message", b"KeyError: 'x'")]
    assert order.key == b"7" and order.json == {
        "source": "order 7", "reason": "no SKU", "record": {"id_order": 7, "amount": "3"}}
    assert dict(order.headers)["__connect.errors.exception.message"] == b"no SKU"


def test_requests_to_the_hubs_carry_their_kind_and_go_to_a_key_or_a_partition():
    rec = Recorder()
    run(rec.outputs.to_hub("shop", "sku:MUG", b'{"sku": "MUG"}', "reassert"))
    run(rec.outputs.to_hub_partition("shop", 2, b'{"cutoff_ms": 5}', "prune"))
    alert_body = {"kind": "stock_drift", "sku": "MUG", "id_product": 8, "id_product_attribute": 0,
                  "shop_quantity": 3, "computed": 9, "delta": -6, "reason": "large", "shop_gtid": None,
                  "erp_as_of": AT, "at": AT}
    run(rec.outputs.alert("MUG", alert_body))
    to_key, to_partition, alert = rec.sent
    assert (to_key.key, to_key.partition, to_key.headers) == (b"sku:MUG", None, {"pssync.kind": b"reassert"})
    assert (to_partition.key, to_partition.partition, to_partition.headers) == (b"*", 2, {"pssync.kind": b"prune"})
    assert (alert.topic, alert.key) == ("alerts", b"MUG")
    assert CODEC.decode_record(alert.value, "t", ALERT) == {**alert_body, "id_order": None}
