"""streams/stock_facts.py over plain dicts: order lines, cancellations, acknowledgements and the
shop's stock rows become stock events keyed by product, in the JSON the stock processor reads."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.schemas.commands import OrderAck
from tests.unit.streams.hub_support import UTC, Shop, change, run
from tests.unit.streams.test_orders import rows_of

CONFIGURATION = rows_of("configuration")       # PS_OS_CANCELED = 6, PS_OS_ERROR = 8


def line(id_detail: int, id_product: int, attribute: int, quantity: int, id_order: int = 40) -> dict:
    return {"id_order_detail": id_detail, "id_order": id_order, "product_id": id_product,
            "product_attribute_id": attribute, "product_quantity": quantity}


def order(state: int, id_order: int = 40) -> dict:
    return {"id_order": id_order, "current_state": state, "id_shop": 1, "id_shop_group": 1}


def shop_with_mapping() -> Shop:
    shop = Shop()
    shop.map_product(1, 1, "TS-S")
    shop.map_product(8, 0, "MUG")
    for row in CONFIGURATION:
        run(shop.orders.on_collection(0, change(row), "configuration", "id_configuration"))
    return shop


def test_each_order_line_is_a_stock_line_event_of_its_product_once():
    shop = shop_with_mapping()
    event = change(line(7, 1, 1, 2), ts_ms=1_714_557_600_000, gtid="0-1-9")
    run(shop.facts.on_order_detail(0, event))
    (sent,) = shop.rec.on("hub:stock")
    assert sent.key == b"product:1" and sent.kind == "stock.line"
    assert sent.json == {"id_order": 40, "sku": "TS-S", "attribute": 1, "quantity": "2",
                         "placed_ms": 1_714_557_600_000, "cancelled": False, "trigger": "order-line:0-1-9:7",
                         "id_product": 1}
    run(shop.facts.on_order_detail(0, change(line(7, 1, 1, 2), before=line(7, 1, 1, 2), gtid="0-1-10")))
    assert len(shop.rec.on("hub:stock")) == 1          # a later update of the same line: counted already
    assert shop.state.order_stock[40]["lines"] == {"7": ["TS-S", "2", 1, 1]}


def test_snapshot_lines_are_history_not_promises():
    shop = shop_with_mapping()
    run(shop.facts.on_order_detail(0, change(line(7, 1, 1, 2), op="r")))
    assert shop.rec.sent == [] and shop.state.order_stock == {}


def test_a_line_without_a_sku_is_kept_aside_and_counted_once_its_product_is_mapped():
    shop = shop_with_mapping()
    row = line(9, 2, 9, 1)
    run(shop.orders.on_order_detail(0, change(row, gtid="0-1-11")))    # the order processor keeps the row
    run(shop.facts.on_order_detail(0, change(row, gtid="0-1-11")))
    assert shop.rec.on("hub:stock") == []
    assert shop.state.order_stock[40]["unmapped"] == {"9": {"op": "c", "ts_ms": 1_714_560_000_000, "gtid": "0-1-11"}}
    shop.state.unmapped["0|2"] = [40]            # as the order processor records it
    shop.map_product(2, 9, "SWEATER")
    (sent,) = shop.rec.on("hub:stock")
    assert (sent.key, sent.json["sku"], sent.json["trigger"]) == (b"product:2", "SWEATER", "order-line:0-1-11:9")
    assert shop.state.order_stock[40]["unmapped"] == {}


def test_a_cancelled_order_gives_its_units_back_and_a_reinstated_one_takes_them_again():
    shop = shop_with_mapping()
    run(shop.facts.on_order_detail(0, change(line(7, 1, 1, 2))))
    run(shop.facts.on_order_detail(0, change(line(8, 8, 0, 1))))
    shop.rec.clear()
    run(shop.facts.on_order(0, change(order(2), gtid="0-1-20")))         # paid: nothing changes
    assert shop.rec.sent == []
    run(shop.facts.on_order(0, change(order(6), before=order(2), gtid="0-1-21")))
    assert [(s.key, s.kind, s.json) for s in shop.rec.on("hub:stock")] == [
        (b"product:1", "stock.cancel", {"id_order": 40, "trigger": "order-state:0-1-21", "id_product": 1}),
        (b"product:8", "stock.cancel", {"id_order": 40, "trigger": "order-state:0-1-21", "id_product": 8})]
    shop.rec.clear()
    run(shop.facts.on_order(0, change(order(2), before=order(6), gtid="0-1-22")))
    assert [s.kind for s in shop.rec.on("hub:stock")] == ["stock.reinstate", "stock.reinstate"]


def test_an_erp_acknowledgement_goes_to_the_products_of_the_order():
    shop = shop_with_mapping()
    run(shop.facts.on_order_detail(0, change(line(7, 1, 1, 2))))
    shop.rec.clear()
    at = dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    ack = OrderAck(command_id="c-1", action="create", id_order=40, shop_reference="REF-40", erp_order_id="SO-1",
                   created=True, acked_at=at, lines={"MUG": Decimal(1)})
    run(shop.facts.on_ack(0, ack))
    assert [(s.key, s.json) for s in shop.rec.on("hub:stock")] == [
        (b"product:1", {"id_order": 40, "acked_at": at.isoformat(), "trigger": "ack:c-1", "id_product": 1}),
        (b"product:8", {"id_order": 40, "acked_at": at.isoformat(), "trigger": "ack:c-1", "id_product": 8})]
    shop.rec.clear()
    run(shop.facts.on_ack(0, ack.model_copy(update={"action": "cancel"})))
    assert shop.rec.sent == []


def test_the_shops_stock_rows_of_its_shop_and_mapped_skus_go_to_reconciliation():
    shop = shop_with_mapping()
    row = {"id_stock_available": 3, "id_product": 8, "id_product_attribute": 0, "id_shop": 1, "quantity": 17}
    run(shop.facts.on_stock_row(0, change(row, before=row | {"quantity": 18}, gtid="0-1-30"), echo=False))
    run(shop.facts.on_stock_row(0, change(row | {"id_shop": 2}), echo=False))        # another shop
    run(shop.facts.on_stock_row(0, change(row | {"id_product": 99}), echo=False))    # no SKU
    (sent,) = shop.rec.on("hub:stock")
    assert sent.kind == "stock.shop_row" and sent.json == {
        "sku": "MUG", "attribute": 0, "quantity": 17, "gtid": "0-1-30", "op": "u", "echo": False, "id_product": 8}
