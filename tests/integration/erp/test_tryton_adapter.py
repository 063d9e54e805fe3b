"""What only the Tryton adapter does, against the real Tryton of the local stack. What every
adapter promises is in tests/integration/erp/contract/ (run there against Tryton too)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pssync.erp.errors import PermanentErpError
from tests.integration.erp.tryton_support import (adapter, new_products, quantity, receive_stock,
                                                  receive_together, retire_products, ship_together, shop_order)

pytestmark = pytest.mark.integration


@pytest.fixture()
def erp(stack):
    instance = adapter(stack)
    yield instance
    instance.close()


@pytest.fixture()
def products(erp):
    """Products of the test's own; retired (deactivated) afterwards."""
    made: list[str] = []

    def make(n: int) -> list[str]:
        made.extend(new_products(erp, n))
        return made[-n:]

    yield make
    retire_products(erp, made)


def test_sale_carries_the_shop_lines_prices_currency_and_customer(erp, products):
    a, b = products(2)
    order = shop_order((a, "2", "23.900000"), (b, "1", "11.90"))   # PrestaShop's 6 decimals
    created = erp.create_sales_order(order)
    [sale] = erp.search_read("sale.sale", [("id", "=", int(created.erp_order_id))],
                             ["state", "lines", "total_amount", "currency.code", "party.code",
                              "reference", "shipment_address.city"])
    assert sale["state"] in ("confirmed", "processing")       # sale_state: confirmed
    assert len(sale["lines"]) == 2 and sale["total_amount"] == Decimal("59.70")
    assert sale["currency."]["code"] == "EUR" and sale["party."]["code"] == "PS-CUST-1"
    assert sale["reference"] == order.shop_reference
    assert sale["shipment_address."]["city"] == "Miami"


def test_a_sale_left_for_review_can_be_cancelled_repeatedly(stack, products):
    review = adapter(stack, sale_state="quotation")     # orders wait for review in Tryton
    try:
        (code,) = products(1)
        order = shop_order((code, "1", "11.90"))
        created = review.create_sales_order(order)
        assert review.cancel_sales_order(order.shop_reference) == created.erp_order_id
        assert review.cancel_sales_order(order.shop_reference) == created.erp_order_id
        [sale] = review.search_read("sale.sale", [("id", "=", int(created.erp_order_id))],
                                    ["state"])
        assert sale["state"] == "cancelled"
    finally:
        review.close()


def test_a_processing_sale_is_withdrawn_its_shipment_and_invoice_cancelled_and_its_stock_released(erp, products):
    """Tryton processes a confirmed sale at once (shipment, draft invoice): a cancel from the shop
    cancels those, ignores them on the sale and leaves it done with nothing shipped or invoiced;
    the units it had promised are available again. Repeating the cancel changes nothing."""
    (code,) = products(1)
    receive_stock(erp, code, 10)
    order = shop_order((code, "3", "11.90"))
    created = erp.create_sales_order(order)
    assert quantity(erp, code) == 7
    [sale] = erp.search_read("sale.sale", [("id", "=", int(created.erp_order_id))], ["state", "shipments"])
    assert sale["state"] == "processing" and sale["shipments"]
    assert erp.cancel_sales_order(order.shop_reference) == created.erp_order_id
    assert erp.cancel_sales_order(order.shop_reference) == created.erp_order_id
    [sale] = erp.search_read("sale.sale", [("id", "=", int(created.erp_order_id))],
                             ["state", "shipments", "invoices", "shipment_state", "invoice_state"])
    assert (sale["state"], sale["shipment_state"], sale["invoice_state"]) == ("done", "none", "none"), sale
    shipments = erp.search_read("stock.shipment.out", [("id", "in", sale["shipments"])], ["state"])
    assert {s["state"] for s in shipments} == {"cancelled"}
    assert quantity(erp, code) == 10


def test_a_shipped_sale_is_not_cancelled_and_the_reason_names_the_shipment(erp, products):
    (code,) = products(1)
    receive_stock(erp, code, 5)
    order = shop_order((code, "1", "11.90"))
    erp.create_sales_order(order)
    ship_together(erp, {order.shop_reference: "TRACK-1"})
    with pytest.raises(PermanentErpError, match="already done .the goods left.: cancelling needs a customer return"):
        erp.cancel_sales_order(order.shop_reference)


def test_a_confirmed_sale_reports_its_shipment_at_once(erp, products):
    (code,) = products(1)
    order = shop_order((code, "1", "11.90"))
    created = erp.create_sales_order(order)
    # confirming made the customer shipment: in the feed before anyone entered a tracking number
    [sale] = erp.search_read("sale.sale", [("id", "=", int(created.erp_order_id))],
                             ["shipments", "write_date"])
    [shipment] = sale["shipments"]
    [ships] = erp.search_read("stock.shipment.out", [("id", "=", shipment)], ["create_date"])
    found = [c.record for c in erp.changes("shipment", ships["create_date"], "", 1000)
             if c.record.erp_shipment_id == str(shipment)]
    assert found and found[-1].tracking_number is None
    assert (found[-1].erp_order_id, found[-1].shop_reference) == (created.erp_order_id,
                                                                   order.shop_reference)


def test_stock_is_what_is_available_to_promise_not_what_is_on_hand(erp, products):
    (code,) = products(1)
    receive_together(erp, {code: 7})
    erp.create_sales_order(shop_order((code, "2", "5.00")))   # confirmed: reserves 2

    token, levels = None, {}
    while True:
        page = erp.stock_snapshot(token, 200)
        levels.update({level.sku: level for level in page.levels})
        token = page.next_page
        if token is None:
            break
    assert (levels[code].quantity, levels[code].on_hand) == (Decimal(5), Decimal(7))
