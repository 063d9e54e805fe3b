"""Sales orders, as every ERP adapter promises them (erp/base.py ErpAdapter): created idempotently
by shop reference, found by it, refused permanently with the ERP's reasons, cancelled."""
from __future__ import annotations

import uuid

import pytest

from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError, UnknownProduct
from tests.integration.erp.subjects import Subject

pytestmark = pytest.mark.integration


@pytest.mark.promise("idempotent_create")
def test_create_is_idempotent_by_shop_reference_and_found_by_it(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    a, b = driver.new_products(2)
    order = driver.order((a, "2", "19.90"), (b, "1", "5.00"))
    assert erp.find_sales_order(order.shop_reference) is None

    first = erp.create_sales_order(order)
    again = erp.create_sales_order(order)

    assert first.created is True and again.created is False
    assert again.erp_order_id == first.erp_order_id
    assert driver.orders_with_reference(order.shop_reference) == [first.erp_order_id]
    assert driver.create_attempts() == 1            # the second call found it, sent nothing
    assert erp.find_sales_order(order.shop_reference) == first.erp_order_id
    assert erp.find_sales_order(f"PS-NONE-{uuid.uuid4().hex[:8]}") is None


@pytest.mark.promise("idempotent_create")
def test_create_whose_reply_was_lost_is_found_on_the_retry_not_made_twice(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    (sku,) = driver.new_products(1)
    order = driver.order((sku, "1", "9.90"))
    lost = driver.lose_next_create_reply()          # the ERP creates it, the reply is a 504

    result = erp.create_sales_order(order)

    assert lost.taken == 1
    assert result.created is False                  # the retry found what the lost call made
    assert driver.orders_with_reference(order.shop_reference) == [result.erp_order_id]
    assert driver.create_attempts() == 1


@pytest.mark.promise("unknown_product")
def test_unknown_sku_is_a_permanent_error_naming_it_and_creates_nothing(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    (known,) = driver.new_products(1)
    unknown = f"ZZ-{uuid.uuid4().hex[:8].upper()}"
    order = driver.order((known, "1", "9.90"), (unknown, "1", "1.00"))

    with pytest.raises(UnknownProduct) as info:
        erp.create_sales_order(order)

    assert isinstance(info.value, PermanentErpError)
    assert unknown in str(info.value) and known not in str(info.value)
    assert driver.orders_with_reference(order.shop_reference) == []
    assert erp.find_sales_order(order.shop_reference) is None
    assert driver.create_attempts() <= 1            # never retried


@pytest.mark.promise("permanent_error")
def test_refused_order_is_permanent_with_the_erps_message_and_not_retried(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    refusal = driver.refused_line()
    order = driver.order(refusal.line)

    with pytest.raises(PermanentErpError) as info:
        erp.create_sales_order(order)

    error = info.value
    assert not isinstance(error, (UnknownProduct, TransientErpError))
    assert refusal.message in error.erp_message and refusal.message in str(error)
    assert (error.code, error.status) == (refusal.code, refusal.status)
    assert driver.create_attempts() == 1
    assert driver.orders_with_reference(order.shop_reference) == []


@pytest.mark.promise("cancel")
def test_cancel_returns_the_erp_id_and_can_be_repeated(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    (sku,) = driver.new_products(1)
    order = driver.order((sku, "1", "9.90"))
    created = erp.create_sales_order(order)
    start = driver.checkpoint()

    assert erp.cancel_sales_order(order.shop_reference) == created.erp_order_id
    assert driver.is_cancelled(created.erp_order_id)
    assert erp.cancel_sales_order(order.shop_reference) == created.erp_order_id
    assert driver.is_cancelled(created.erp_order_id)
    assert driver.orders_with_reference(order.shop_reference) == [created.erp_order_id]

    statuses = [c.record for c in erp.changes("order_status", start[0], start[1], 10_000)
                if c.key == created.erp_order_id]
    assert statuses and statuses[-1].state == driver.order_state(created.erp_order_id)


@pytest.mark.promise("cancel_unknown")
def test_cancel_of_an_unknown_reference_is_not_found(subject: Subject):
    reference = f"PS-NONE-{uuid.uuid4().hex[:8]}"
    with pytest.raises(NotFound) as info:
        subject.adapter.cancel_sales_order(reference)
    assert isinstance(info.value, PermanentErpError)
