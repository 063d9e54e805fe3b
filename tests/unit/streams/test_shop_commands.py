"""streams/shop_commands.py: ERP changes become shop commands with ids derived from their cause
(the wire format of the commands: tests/unit/schemas/test_codec.py)."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from pssync.schemas.commands import OrderStateCommand, PriceCommand, StockCommand, TrackingCommand, new_command_id
from pssync.streams.shop_commands import (order_id_from_reference, price_command, state_command,
                                   stock_command, tracking_command)
from pssync.streams.stock import Publish

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
AS_OF = dt.datetime(2024, 5, 1, 11, 58, tzinfo=UTC)
SINCE = dt.datetime(2024, 5, 1, 11, 55, tzinfo=UTC)
STATES = {"shipped": "PS_OS_SHIPPING", "done": "PS_OS_DELIVERED"}


def publish_result(**overrides) -> Publish:
    values = dict(sku="TS-M", id_product=1, id_product_attribute=2, quantity=7, available=Decimal(7),
                  product_level=12, unacknowledged=Decimal(0), as_of=AS_OF)
    values.update(overrides)
    return Publish(**values)


def status_event(**overrides) -> dict:
    event = {"erp_order_id": "SO-17", "shop_reference": "XKBKNABJK-42", "state": "shipped",
             "changed_at": dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC), "version": "v9"}
    event.update(overrides)
    return event


def shipment_event(**overrides) -> dict:
    event = {"erp_shipment_id": "SH-3", "erp_order_id": "SO-17", "shop_reference": "XKBKNABJK-42",
             "state": "done", "tracking_number": "1Z999AA10123456784", "carrier": "UPS",
             "changed_at": dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC), "version": "v3"}
    event.update(overrides)
    return event


def a_stock_command() -> StockCommand:
    return stock_command(publish_result(available=Decimal(-2), quantity=0), "erp-stock:v1", 1,
                         ("12", 15), SINCE, NOW)


def a_price_command() -> PriceCommand:
    return price_command("TS-M", (1, 2), Decimal("19.90"), AS_OF, "erp-price:v4", 1, NOW)


def a_state_command() -> OrderStateCommand:
    command = state_command(status_event(), STATES, "order-status", "", NOW)
    assert command is not None
    return command


def a_tracking_command() -> TrackingCommand:
    command = tracking_command(shipment_event(), "", NOW)
    assert command is not None
    return command


# ---- order_id_from_reference -------------------------------------------------------------------

@pytest.mark.parametrize("reference, prefix, expected", [
    ("XKBKNABJK-42", "", 42),
    ("SHOP1-XKBKNABJK-42", "SHOP1-", 42),
    ("A-B-7", "", 7),                       # the id is after the last dash
    ("SHOP2-XKBKNABJK-42", "SHOP1-", None),  # another shop's prefix
    ("XKBKNABJK-42", "SHOP1-", None),        # prefix expected, absent
    ("XKBKNABJK42", "", None),               # no dash
    ("XKBKNABJK-", "", None),                # empty tail
    ("XKBKNABJK-4a", "", None),              # non-digit tail
    ("XKBKNABJK- 42", "", None),
    ("XKBKNABJK--42", "", 42),
    ("XKBKNABJK-²", "", None),               # str.isdigit() is True for '²', int() is not
    ("XKBKNABJK-١٢", "", None),              # non-ASCII digits are not a PrestaShop id
    ("", "", None),
    (None, "", None),
    (None, "SHOP1-", None),
])
def test_order_id_from_reference(reference, prefix, expected):
    assert order_id_from_reference(reference, prefix) == expected


# ---- stock_command -----------------------------------------------------------------------------

def test_stock_command_copies_the_published_row():
    published = publish_result(available=Decimal("-2.5"), quantity=0)
    command = stock_command(published, "erp-stock:v1", 3, ("12", 15, "7"), SINCE, NOW)
    assert command.sku == "TS-M"
    assert (command.id_shop, command.id_product, command.id_product_attribute) == (3, 1, 2)
    assert command.quantity == 0
    assert command.erp_as_of == AS_OF
    assert command.known_orders == (12, 15, 7)
    assert all(type(k) is int for k in command.known_orders)
    assert command.orders_since == SINCE
    assert command.created_at == NOW
    assert command.source_event_id == "erp-stock:v1"
    assert command.shortfall == published.shortfall == 3
    assert command.key.resource == "stock_available" and command.key.operation == "set_quantity"
    assert command.key.external_id == "TS-M" and command.kafka_key == b"TS-M"


def test_stock_command_id_depends_only_on_sku_and_trigger():
    first = stock_command(publish_result(), "erp-stock:v1", 1, (), SINCE, NOW)
    later = stock_command(publish_result(quantity=3), "erp-stock:v1", 1, ("5",), SINCE,
                          NOW + dt.timedelta(minutes=5))
    assert first.command_id == later.command_id == new_command_id("stock", "TS-M", "erp-stock:v1")
    uuid.UUID(first.command_id)
    assert stock_command(publish_result(), "erp-stock:v2", 1, (), SINCE, NOW).command_id != first.command_id
    assert stock_command(publish_result(sku="TS-S"), "erp-stock:v1", 1, (), SINCE, NOW).command_id \
        != first.command_id


def test_stock_command_without_shortfall():
    command = stock_command(publish_result(), "t", 1, (), SINCE, NOW)
    assert command.shortfall == 0 and command.quantity == 7 and command.known_orders == ()


# ---- price_command -----------------------------------------------------------------------------

def test_price_command():
    command = price_command("TS-M", (1, 2), Decimal("19.90"), AS_OF, "erp-price:v4", 2, NOW)
    assert command.command_id == new_command_id("price", "TS-M", "erp-price:v4")
    assert (command.sku, command.id_shop, command.id_product, command.id_product_attribute) == ("TS-M", 2, 1, 2)
    assert command.price == Decimal("19.90")
    assert command.changed_at == AS_OF and command.created_at == NOW
    assert command.source_event_id == "erp-price:v4"
    assert command.key.resource == "product_price" and command.key.operation == "set_price"
    assert command.kafka_key == b"TS-M"
    assert price_command("TS-M", (1, 2), Decimal("21"), AS_OF, "erp-price:v4", 2, NOW).command_id \
        == command.command_id


# ---- state_command -----------------------------------------------------------------------------

def test_state_command_for_a_mapped_state():
    command = state_command(status_event(), STATES, "order-status", "", NOW)
    assert command is not None
    assert command.id_order == 42
    assert command.shop_reference == "XKBKNABJK-42"
    assert command.state_key == "PS_OS_SHIPPING"
    assert command.erp_state == "shipped"
    assert command.source_event_id == "order-status:v9"
    assert command.command_id == new_command_id("state", 42, "PS_OS_SHIPPING", "order-status:v9")
    assert command.created_at == NOW
    assert command.changed_at == dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    assert command.key.external_id == "XKBKNABJK-42" and command.key.operation == "add_state"


def test_state_command_trigger_is_named_after_the_kind():
    command = state_command(shipment_event(), STATES, "shipment", "", NOW)
    assert command is not None
    assert command.source_event_id == "shipment:v3"
    assert command.state_key == "PS_OS_DELIVERED"
    assert command.command_id == new_command_id("state", 42, "PS_OS_DELIVERED", "shipment:v3")
    assert command.command_id != state_command(shipment_event(), STATES, "order-status", "", NOW).command_id


def test_state_command_with_a_prefix():
    command = state_command(status_event(shop_reference="SHOP1-XKBKNABJK-42"), STATES, "order-status",
                            "SHOP1-", NOW)
    assert command is not None
    assert command.id_order == 42 and command.shop_reference == "SHOP1-XKBKNABJK-42"


@pytest.mark.parametrize("event, prefix", [
    (status_event(state="draft"), ""),                                # state not mapped
    (status_event(shop_reference=None), ""),                          # not a shop order
    (status_event(shop_reference="PO-2024-ABC"), ""),                 # not "<reference>-<id>"
    (status_event(shop_reference="SHOP2-XKBKNABJK-42"), "SHOP1-"),    # another shop
    (status_event(), "SHOP1-"),
])
def test_state_command_none(event, prefix):
    assert state_command(event, STATES, "order-status", prefix, NOW) is None


def test_state_command_without_shop_reference_key():
    event = status_event()
    del event["shop_reference"]
    assert state_command(event, STATES, "order-status", "", NOW) is None


def test_state_command_naive_changed_at_becomes_utc():
    command = state_command(status_event(changed_at=dt.datetime(2024, 5, 1, 11, 0)), STATES,
                            "order-status", "", NOW)
    assert command is not None
    assert command.changed_at == dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    assert command.changed_at.utcoffset() == dt.timedelta(0)


def test_state_command_keeps_an_aware_offset():
    paris = dt.timezone(dt.timedelta(hours=2))
    changed = dt.datetime(2024, 5, 1, 13, 0, tzinfo=paris)
    command = state_command(status_event(changed_at=changed), STATES, "order-status", "", NOW)
    assert command is not None and command.changed_at == changed and command.changed_at.tzinfo == paris


# ---- tracking_command --------------------------------------------------------------------------

def test_tracking_command():
    command = tracking_command(shipment_event(tracking_number="  1Z999  "), "", NOW)
    assert command is not None
    assert command.id_order == 42 and command.shop_reference == "XKBKNABJK-42"
    assert command.tracking_number == "1Z999"
    assert command.carrier == "UPS"
    assert command.source_event_id == "shipment:v3"
    assert command.command_id == new_command_id("tracking", 42, "shipment:v3")
    assert command.created_at == NOW
    assert command.key.resource == "order_carrier" and command.key.operation == "set_tracking"


def test_tracking_command_without_carrier_and_naive_time():
    event = shipment_event(changed_at=dt.datetime(2024, 5, 1, 11, 0))
    del event["carrier"]
    command = tracking_command(event, "", NOW)
    assert command is not None
    assert command.carrier is None
    assert command.changed_at == dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("number", [None, "", "   "])
def test_tracking_command_blank_number(number):
    assert tracking_command(shipment_event(tracking_number=number), "", NOW) is None


def test_tracking_command_missing_number_key():
    event = shipment_event()
    del event["tracking_number"]
    assert tracking_command(event, "", NOW) is None


@pytest.mark.parametrize("reference, prefix", [(None, ""), ("SHOP2-X-42", "SHOP1-"), ("NODASH", "")])
def test_tracking_command_foreign_order(reference, prefix):
    assert tracking_command(shipment_event(shop_reference=reference), prefix, NOW) is None


def test_product_command_only_for_the_product_level_row():
    from pssync.streams.shop_commands import product_command

    at = dt.datetime(2026, 11, 22, 10, 0)          # naive: read as UTC
    now = dt.datetime(2026, 11, 22, 10, 0, 1, tzinfo=dt.timezone.utc)
    command = product_command("demo_11", (6, 0), False, at, "erp-product:v1", 1, now)
    assert command is not None and command.active is False and command.id_product == 6
    assert command.changed_at.tzinfo is not None
    assert command.command_id == product_command("demo_11", (6, 0), False, at, "erp-product:v1", 1, now).command_id
    assert command.key.resource == "product" and command.key.operation == "set_fields"
    assert product_command("demo_1-1", (1, 1), True, at, "erp-product:v2", 1, now) is None
