"""streams/stock_hub.py over plain dicts: ERP levels and order lines give stock commands for the
SKUs whose value changed; the shop's own stock rows are compared with the computed value once due:
small drift corrected, large drift alerted."""
from __future__ import annotations

import datetime as dt

from pssync.schemas.commands import StockCommand
from pssync.streams.stock import StockBook
from tests.unit.streams.hub_support import NOW, Stock, change, mapping_row, run
from tests.unit.streams.recording import CODEC

AS_OF = NOW - dt.timedelta(minutes=2)


def level(sku: str, quantity: str, attribute: int = 0, mode: str = "delta", trigger: str = "erp-stock:s1") -> dict:
    return {"sku": sku, "attribute": attribute, "quantity": quantity, "as_of": AS_OF.isoformat(), "mode": mode,
            "snapshot_id": "snap" if mode == "snapshot" else None, "trigger": trigger}


def commands(stock: Stock) -> list[StockCommand]:
    return [CODEC.shop_command(s.value, "test") for s in stock.rec.on("shop_commands")]


def test_an_erp_level_publishes_the_skus_stock_once_per_value():
    stock = Stock()
    run(stock.hub.on_level(8, level("MUG", "20")))
    (sent,) = stock.rec.on("shop_commands")
    command = CODEC.shop_command(sent.value, "test")
    assert sent.key == b"MUG" and isinstance(command, StockCommand)
    assert (command.id_product, command.id_product_attribute, command.quantity, command.erp_as_of) == (8, 0, 20, AS_OF)
    assert command.source_event_id == "erp-stock:s1" and command.orders_since == NOW - dt.timedelta(seconds=120)
    assert stock.state.published == {"MUG": 20} and stock.state.product_skus == {8: {"MUG": 0}}
    run(stock.hub.on_level(8, level("MUG", "20", trigger="erp-stock:s2")))       # same value: nothing
    assert len(commands(stock)) == 1
    run(stock.hub.on_level(8, level("MUG", "20", mode="snapshot", trigger="erp-stock:s3")))   # a snapshot: always
    assert len(commands(stock)) == 2


def test_an_order_line_takes_its_units_and_a_cancellation_gives_them_back():
    stock = Stock()
    run(stock.hub.on_level(8, level("MUG", "20")))
    placed_ms = int((NOW - dt.timedelta(minutes=1)).timestamp() * 1000)
    run(stock.hub.on_line(8, {"id_order": 40, "sku": "MUG", "attribute": 0, "quantity": "3", "placed_ms": placed_ms,
                              "cancelled": False, "trigger": "order-line:g:7"}))
    assert [(c.quantity, c.known_orders) for c in commands(stock)] == [(20, ()), (17, (40,))]
    run(stock.hub.on_cancel(8, {"id_order": 40, "trigger": "order-state:g2"}))
    assert [c.quantity for c in commands(stock)] == [20, 17, 20]


def test_the_stock_events_dispatch_decodes_json_facts_and_the_avro_mapping_row():
    stock = Stock()
    stock.record("pssync_product_map", 1, change(mapping_row(1, 2, "TS-M")))
    stock.record("stock.level", 1, level("TS-M", "4", attribute=2))
    assert stock.state.product_skus == {1: {"TS-M": 2}}
    assert [(c.sku, c.id_product_attribute, c.quantity) for c in commands(stock)] == [("TS-M", 2, 4)]
    stock.record("pssync_product_map", 1, change(None, before=mapping_row(1, 2, "TS-M")))
    assert stock.state.product_skus == {1: {"TS-M": None}}      # taken off: its late facts are stale


def sku_line(id_order: int, sku: str, quantity: str, attribute: int = 0) -> dict:
    placed_ms = int((NOW - dt.timedelta(minutes=1)).timestamp() * 1000)
    return {"id_order": id_order, "sku": sku, "attribute": attribute, "quantity": quantity, "placed_ms": placed_ms,
            "cancelled": False, "trigger": f"order-line:g:{id_order}"}


def test_a_sku_moved_to_another_product_is_rekeyed_and_no_stock_fact_is_dead_lettered():
    """`mapping set --reassign`: product 8 had MUG-B, product 7 had MUG-A; now product 8 has MUG-A and
    product 7 nothing (a delete of 7's row and an update of 8's, each to its product's partition)."""
    stock = Stock()
    stock.record("pssync_product_map", 7, change(mapping_row(7, 0, "MUG-A")))
    stock.record("pssync_product_map", 8, change(mapping_row(8, 0, "MUG-B")))
    stock.record("stock.level", 7, level("MUG-A", "50"))
    stock.record("stock.level", 8, level("MUG-B", "30"))
    stock.record("stock.line", 8, sku_line(40, "MUG-B", "3"))
    stock.record("stock.line", 7, sku_line(41, "MUG-A", "1"))
    stock.rec.clear()

    stock.record("pssync_product_map", 7, change(None, before=mapping_row(7, 0, "MUG-A")))
    stock.record("pssync_product_map", 8, change(mapping_row(8, 0, "MUG-A"), before=mapping_row(8, 0, "MUG-B")))
    assert stock.state.product_skus == {7: {"MUG-A": None}, 8: {"MUG-B": None, "MUG-A": 0}}
    # the ERP level held for MUG-A is sent again, to product 8 (erp_values.mapped): published there,
    # although the same quantity was published for product 7
    stock.record("stock.level", 8, level("MUG-A", "50", trigger="mapping:MUG-A:v1"))
    # facts resolved before the change reach the products late: stale, ignored
    stock.record("stock.level", 8, level("MUG-B", "31"))
    stock.record("stock.line", 7, sku_line(42, "MUG-A", "1"))
    stock.record("stock.line", 8, sku_line(43, "MUG-A", "2"))        # product 8's order under its new SKU
    stock.record("stock.cancel", 8, {"id_order": 40, "trigger": "order-state:g3"})   # MUG-B's order: no effect
    assert stock.rec.on("dead_letters") == []
    assert [(c.sku, c.id_product, c.quantity, c.known_orders) for c in commands(stock)] == [
        ("MUG-A", 8, 50, ()), ("MUG-A", 8, 48, (43,))]
    book = StockBook.from_json(stock.state.books[8])
    assert book.rows() == {"MUG-A": (8, 0)} and book.level("MUG-B") is None
    # mapped back later, the SKU counts for its product again
    stock.record("pssync_product_map", 7, change(mapping_row(7, 0, "MUG-A")))
    assert stock.state.product_skus[7] == {"MUG-A": 0}


def test_two_skus_left_on_one_row_by_an_earlier_version_no_longer_dead_letter_its_facts():
    stock = Stock()
    stock.state.product_skus[8] = {"MUG-B": 0, "MUG-A": 0}       # what the old on_mapping left behind
    stock.state.books[8] = StockBook({"MUG-B": (8, 0)}).to_json()
    stock.record("stock.level", 8, level("MUG-A", "20"))
    assert stock.rec.on("dead_letters") == []
    assert [(c.sku, c.quantity) for c in commands(stock)] == [("MUG-A", 20)]


def test_skus_swapping_combinations_of_one_product_are_remapped():
    stock = Stock()
    stock.record("pssync_product_map", 1, change(mapping_row(1, 1, "TS-S")))
    stock.record("pssync_product_map", 1, change(mapping_row(1, 2, "TS-M")))
    stock.record("stock.level", 1, level("TS-S", "4", attribute=1))
    stock.record("pssync_product_map", 1, change(mapping_row(1, 1, "TS-M"), before=mapping_row(1, 1, "TS-S")))
    stock.record("pssync_product_map", 1, change(mapping_row(1, 2, "TS-S"), before=mapping_row(1, 2, "TS-M")))
    stock.record("stock.level", 1, level("TS-M", "6", attribute=1))
    assert stock.rec.on("dead_letters") == []
    assert stock.state.product_skus == {1: {"TS-S": 2, "TS-M": 1}}
    assert StockBook.from_json(stock.state.books[1]).rows() == {"TS-S": (1, 2), "TS-M": (1, 1)}


def shop_row(quantity: int, echo: bool = False, op: str = "u") -> dict:
    return {"sku": "MUG", "attribute": 0, "quantity": quantity, "gtid": "0-1-70", "op": op, "echo": echo}


def test_a_shop_stock_change_is_compared_once_due_and_small_drift_is_corrected():
    stock = Stock(drift_threshold=2)
    run(stock.hub.on_level(8, level("MUG", "20")))
    stock.rec.clear()
    run(stock.hub.on_shop_row(8, shop_row(19)))
    assert stock.state.shop_stock == {"MUG": [19, "0-1-70"]} and stock.hub.due == {"MUG": (8, 5.0)}
    run(stock.hub.schedule_due())
    assert stock.rec.sent == []                          # not due yet
    stock.ticks[0] = 5.0
    run(stock.hub.schedule_due())
    (request,) = stock.rec.on("hub:stock")
    assert (request.key, request.kind, request.json) == (b"product:8", "stock.reconcile", {"sku": "MUG", "id_product": 8})
    assert stock.hub.due == {}
    run(stock.hub.on_reconcile(8, request.json))
    (command,) = commands(stock)
    assert command.quantity == 20 and command.source_event_id == "reconcile:MUG:0-1-70"


def test_large_drift_alerts_a_person_instead():
    stock = Stock(drift_threshold=2)
    run(stock.hub.on_level(8, level("MUG", "20")))
    stock.rec.clear()
    run(stock.hub.on_shop_row(8, shop_row(5)))
    run(stock.hub.on_reconcile(8, {"sku": "MUG"}))
    assert stock.rec.on("shop_commands") == []
    (alert,) = stock.rec.on("alerts")
    assert alert.key == b"MUG"
    assert alert.json | {"reason": "-"} == {
        "kind": "stock_drift", "sku": "MUG", "id_product": 8, "id_product_attribute": 0, "shop_quantity": 5,
        "computed": 20, "delta": 15, "reason": "-", "shop_gtid": "0-1-70", "erp_as_of": AS_OF.isoformat(),
        "id_order": None, "at": NOW.isoformat()}


def test_our_own_stock_writes_are_never_compared():
    stock = Stock()
    run(stock.hub.on_shop_row(8, shop_row(19)))
    run(stock.hub.on_shop_row(8, shop_row(20, echo=True)))
    assert stock.hub.due == {} and stock.state.shop_stock == {"MUG": [20, "0-1-70"]}


def line(id_order: int, quantity: str, minutes_ago: float = 1) -> dict:
    placed_ms = int((NOW - dt.timedelta(minutes=minutes_ago)).timestamp() * 1000)
    return {"id_order": id_order, "sku": "MUG", "attribute": 0, "quantity": quantity, "placed_ms": placed_ms,
            "cancelled": False, "trigger": f"order-line:g:{id_order}"}


def test_a_shop_change_before_the_sink_applied_the_published_command_is_not_drift():
    stock = Stock(drift_threshold=2)
    run(stock.hub.on_level(8, level("MUG", "10")))
    run(stock.hub.on_shop_row(8, shop_row(10, echo=True)))          # the sink wrote 10
    later = dict(level("MUG", "100", trigger="erp-stock:s2"), as_of=NOW.isoformat())   # goods received
    run(stock.hub.on_level(8, later))
    assert [c.quantity for c in commands(stock)] == [10, 100]       # 100 is on its way to the shop
    run(stock.hub.on_shop_row(8, shop_row(9)))                      # a checkout, before the sink wrote 100
    run(stock.hub.on_line(8, line(41, "1")))
    run(stock.hub.on_reconcile(8, {"sku": "MUG"}))
    assert stock.rec.on("alerts") == []                             # 9 is 10 less the order: the sink is behind
    assert [c.quantity for c in commands(stock)] == [10, 100, 99]
    # the sink catches up (writes 99): from then on the shop is judged against it, and a real drift alerts
    run(stock.hub.on_shop_row(8, shop_row(99, echo=True)))
    assert len(stock.state.sent["MUG"]) == 1
    run(stock.hub.on_shop_row(8, shop_row(150)))                    # a back-office edit nothing explains
    run(stock.hub.on_reconcile(8, {"sku": "MUG"}))
    (alert,) = stock.rec.values("alerts")
    assert (alert["shop_quantity"], alert["computed"], alert["delta"]) == (150, 99, -51)


def test_a_shop_change_no_command_explains_is_drift_even_while_the_sink_is_behind():
    stock = Stock(drift_threshold=2)
    run(stock.hub.on_level(8, level("MUG", "10")))
    run(stock.hub.on_shop_row(8, shop_row(10, echo=True)))
    run(stock.hub.on_level(8, dict(level("MUG", "100", trigger="erp-stock:s2"), as_of=NOW.isoformat())))
    run(stock.hub.on_shop_row(8, shop_row(40)))                     # neither 10 nor 100, nor an order
    run(stock.hub.on_reconcile(8, {"sku": "MUG"}))
    (alert,) = stock.rec.values("alerts")
    assert (alert["shop_quantity"], alert["computed"], alert["delta"]) == (40, 10, -30)
