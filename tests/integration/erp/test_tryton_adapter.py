"""The Tryton adapter against the real Tryton of the local stack."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pssync.erp.errors import PermanentErpError, UnknownProduct
from tests.integration.erp.tryton_support import (adapter, new_product, quantity, receive_stock,
                                                  set_price, shop_order)

pytestmark = pytest.mark.integration


@pytest.fixture()
def erp(stack):
    instance = adapter(stack)
    yield instance
    instance.close()


def test_sales_order_creation_is_idempotent(erp):
    order = shop_order(("demo_1-1", "2", "23.90"), ("demo_11", "1", "11.90"))
    first = erp.create_sales_order(order)
    again = erp.create_sales_order(order)
    assert first.created and not again.created
    assert again.erp_order_id == first.erp_order_id
    sales = erp.search_read("sale.sale", [("reference", "=", order.shop_reference)],
                            ["state", "lines", "total_amount", "currency.code", "party.code"])
    assert len(sales) == 1
    sale = sales[0]
    assert sale["state"] in ("confirmed", "processing")
    assert len(sale["lines"]) == 2 and sale["total_amount"] == Decimal("59.70")
    assert sale["currency."]["code"] == "EUR" and sale["party."]["code"] == "PS-CUST-1"
    assert erp.find_sales_order(order.shop_reference) == first.erp_order_id


def test_cancel_reports_the_erp_id_and_is_repeatable(stack):
    review = adapter(stack, sale_state="quotation")     # orders wait for review in Tryton
    order = shop_order(("demo_12", "1", "11.90"))
    created = review.create_sales_order(order)
    assert review.cancel_sales_order(order.shop_reference) == created.erp_order_id
    assert review.cancel_sales_order(order.shop_reference) == created.erp_order_id
    state = review.search_read("sale.sale", [("id", "=", int(created.erp_order_id))], ["state"])[0]["state"]
    assert state == "cancelled"
    review.close()


def test_cancelling_a_sale_tryton_already_processes_is_a_permanent_error(erp):
    order = shop_order(("demo_12", "1", "11.90"))
    erp.create_sales_order(order)
    with pytest.raises(PermanentErpError, match="already processing"):
        erp.cancel_sales_order(order.shop_reference)


def test_unknown_product_is_permanent_and_names_the_sku(erp):
    order = shop_order(("demo_1-1", "1", "23.90"), ("no-such-sku", "1", "1.00"))
    with pytest.raises(UnknownProduct, match="no-such-sku"):
        erp.create_sales_order(order)
    assert erp.find_sales_order(order.shop_reference) is None


def test_changes_with_the_same_write_timestamp_are_both_returned(erp):
    before = erp.changes("price", None, "", 10_000)
    cursor = max((c.ts, c.row_id) for c in before)
    first, second = new_product(erp, "9.00", variants=2)
    cursor = max((c.ts, c.row_id) for c in erp.changes("price", cursor[0], cursor[1], 10_000))
    set_price(erp, Decimal("14.25"), first, second)
    after = erp.changes("price", cursor[0], cursor[1], 1)   # a page of one: keyset must not skip
    rest = erp.changes("price", after[-1].ts, after[-1].row_id, 10)
    seen = [(c.key, c.record.list_price) for c in after + rest]
    assert seen == [(first, Decimal("14.25")), (second, Decimal("14.25"))]
    assert after[0].ts == rest[0].ts


def test_stock_feed_and_snapshot_report_available_quantity(erp):
    start = erp.changes("stock", None, "", 100_000)
    cursor = max((c.ts, c.row_id) for c in start)
    (code,) = new_product(erp)
    receive_stock(erp, code, 7)
    changes = erp.changes("stock", cursor[0], cursor[1], 100)
    assert [(c.key, c.record.quantity) for c in changes] == [(code, Decimal(7))]
    levels, page, pages = [], None, 0
    while True:
        result = erp.stock_snapshot(page, 20)
        levels += result.levels
        pages += 1
        page = result.next_page
        if page is None:
            break
    assert pages >= 3 and len(levels) == len({l.sku for l in levels}) >= 47
    assert {l.sku: l.quantity for l in levels}[code] == Decimal(7)
    assert {l.sku: l.quantity for l in levels}["demo_1-2"] == quantity(erp, "demo_1-2")


def test_order_status_and_shipment_feeds_carry_the_shop_reference_and_tracking(erp):
    status_cursor = max((c.ts, c.row_id) for c in erp.changes("order_status", None, "", 100_000))
    ship_cursor = max(((c.ts, c.row_id) for c in erp.changes("shipment", None, "", 100_000)),
                      default=(None, ""))
    order = shop_order(("demo_1-3", "1", "23.90"))
    created = erp.create_sales_order(order)

    statuses = erp.changes("order_status", status_cursor[0], status_cursor[1], 100)
    ours = [c.record for c in statuses if c.record.shop_reference == order.shop_reference]
    assert ours and ours[-1].erp_order_id == created.erp_order_id
    assert ours[-1].state in ("confirmed", "processing")

    shipments = [c.record for c in erp.changes("shipment", ship_cursor[0], ship_cursor[1], 100)
                 if c.record.shop_reference == order.shop_reference]
    assert len(shipments) == 1 and shipments[0].tracking_number is None
    shipment_id = int(shipments[0].erp_shipment_id)
    erp.call("stock.shipment.out", "write", [shipment_id], {"reference": "1Z999AA10123456784"})
    latest = max((c.ts, c.row_id) for c in erp.changes("shipment", ship_cursor[0], ship_cursor[1], 100))
    again = [c.record for c in erp.changes("shipment", ship_cursor[0], ship_cursor[1], 100)
             if c.record.erp_shipment_id == str(shipment_id)]
    assert again[-1].tracking_number == "1Z999AA10123456784"
    assert again[-1].erp_order_id == created.erp_order_id
    assert latest[0] >= shipments[0].changed_at
