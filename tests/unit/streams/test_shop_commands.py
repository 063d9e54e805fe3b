"""streams/shop_commands.py and the JSON contract of streams/commands.py: ERP changes become shop
commands with ids derived from their cause, and every command survives encode -> decode unchanged."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from pssync.erp.base import Address, Customer
from pssync.schemas.commands import (BadCommand, OrderAck, OrderStateCommand, PriceCommand, StockCommand,
                              TrackingCommand, decode_ack, decode_sales_order, decode_shop_command,
                              encode, encode_sales_order, new_command_id)
from pssync.schemas.sales_order import CommandLine, SalesOrderCommand
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


# ---- JSON round trip of shop commands ------------------------------------------------------------

@pytest.mark.parametrize("make", [a_stock_command, a_price_command, a_state_command, a_tracking_command],
                         ids=["stock", "price", "order_state", "tracking"])
def test_shop_command_round_trip(make):
    command = make()
    decoded = decode_shop_command(encode(command), "shop-commands[0]@5")
    assert type(decoded) is type(command)
    assert decoded == command
    assert decoded.key == command.key
    assert decoded.kafka_key == command.kafka_key


def test_encoded_shop_command_is_plain_json():
    data = json.loads(encode(a_price_command()))
    assert data["type"] == "price"
    assert data["price"] == "19.90"          # Decimal as a string
    assert dt.datetime.fromisoformat(data["changed_at"]) == AS_OF
    stock = json.loads(encode(a_stock_command()))
    assert stock["type"] == "stock" and stock["known_orders"] == [12, 15] and stock["shortfall"] == 2


def test_decoded_price_keeps_its_decimal_exactly():
    decoded = decode_shop_command(encode(a_price_command()), "w")
    assert isinstance(decoded, PriceCommand)
    assert isinstance(decoded.price, Decimal) and str(decoded.price) == "19.90"


def _bad(value: bytes | None, decode=decode_shop_command) -> BadCommand:
    with pytest.raises(BadCommand) as info:
        decode(value, "shop-commands[2]@17")
    exc = info.value
    assert exc.record == "shop-commands[2]@17"
    assert str(exc).startswith("shop-commands[2]@17: ")
    return exc


def test_bad_shop_command_malformed_json():
    exc = _bad(b"{not json")
    assert exc.reason.startswith("invalid command: ")


def test_bad_shop_command_tombstone():
    assert "tombstone" in _bad(None).reason


def test_bad_shop_command_missing_field():
    data = json.loads(encode(a_stock_command()))
    del data["sku"]
    exc = _bad(json.dumps(data).encode())
    assert "sku" in exc.reason and "invalid command" in exc.reason


def test_bad_shop_command_wrong_type_discriminator():
    data = json.loads(encode(a_stock_command()))
    data["type"] = "teleport"
    exc = _bad(json.dumps(data).encode())
    assert "teleport" in exc.reason or "type" in exc.reason


def test_bad_shop_command_missing_type():
    data = json.loads(encode(a_price_command()))
    del data["type"]
    _bad(json.dumps(data).encode())


def test_bad_shop_command_type_of_another_command():
    data = json.loads(encode(a_price_command()))
    data["type"] = "stock"                  # a price's fields under the stock discriminator
    _bad(json.dumps(data).encode())


def test_bad_shop_command_naive_datetime_and_extra_field():
    data = json.loads(encode(a_price_command()))
    data["changed_at"] = "2024-05-01T11:58:00"
    assert "changed_at" in _bad(json.dumps(data).encode()).reason
    data = json.loads(encode(a_price_command()))
    data["surprise"] = 1
    assert "surprise" in _bad(json.dumps(data).encode()).reason


def test_bad_shop_command_negative_quantity():
    data = json.loads(encode(a_stock_command()))
    data["quantity"] = -1
    assert "quantity" in _bad(json.dumps(data).encode()).reason


# ---- acks ------------------------------------------------------------------------------------------

def an_ack() -> OrderAck:
    return OrderAck(command_id=str(uuid.uuid4()), action="create", id_order=42, shop_reference="XKBKNABJK-42",
                    erp_order_id="SO-17", created=True, acked_at=AS_OF,
                    lines={"TS-M": Decimal("2"), "MUG": Decimal("1.5")})


def test_decode_ack_round_trip():
    ack = an_ack()
    decoded = decode_ack(encode(ack), "acks[0]@1")
    assert decoded == ack
    assert decoded.lines == {"TS-M": Decimal(2), "MUG": Decimal("1.5")}
    assert decoded.acked_at == AS_OF


def test_decode_ack_from_hand_written_json():
    value = json.dumps({"command_id": "c1", "action": "cancel", "id_order": 7, "shop_reference": "R-7",
                        "erp_order_id": "SO-1", "created": False,
                        "acked_at": "2024-05-01T11:58:00+00:00"}).encode()
    ack = decode_ack(value, "acks[0]@1")
    assert ack.action == "cancel" and ack.lines == {} and ack.acked_at == AS_OF


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("id_order"),
    lambda d: d.update(action="update"),
    lambda d: d.update(acked_at="2024-05-01T11:58:00"),
])
def test_decode_ack_bad(mutate):
    data = json.loads(encode(an_ack()))
    mutate(data)
    _bad(json.dumps(data).encode(), decode=decode_ack)


def test_decode_ack_tombstone_and_garbage():
    _bad(None, decode=decode_ack)
    _bad(b"\x00\x01", decode=decode_ack)


# ---- sales-order commands ----------------------------------------------------------------------------

def a_sales_order() -> SalesOrderCommand:
    address = Address(name="Ada Lovelace", street="12 Rue de la Paix", postal_code="75002", city="Paris",
                      country_code="FR", street2="Bât. B", company="Analytical", phone="+33 1 23 45 67 89")
    billing = Address(name="Ada Lovelace", street="1 Main St", postal_code="10001", city="New York",
                      country_code="US")
    return SalesOrderCommand(
        command_id=uuid.UUID("7a1f7a3c-2b0d-5c4e-8f9a-0d1e2f3a4b5c"), erp_action="create",
        shop_id="prestashop", id_shop=1, id_order=42, reference="XKBKNABJK",
        shop_reference="XKBKNABJK-42", state_id=2, state_key="PS_OS_PAYMENT", source_event_id="0-1-42",
        customer=Customer(external_id="PS-CUST-3", name="Ada Lovelace", email="ada@example.com"),
        currency="EUR",
        lines=(CommandLine("TS-M", Decimal("2"), Decimal("16.583333"), "T-shirt M", "product", 101),
               CommandLine("SHIP", Decimal("1"), Decimal("5.00"), "Shipping", "shipping"),
               CommandLine("DISC", Decimal("1"), Decimal("-3.10"), "Discount", "discount")),
        invoice_address=billing, shipment_address=address,
        ordered_at=dt.datetime(2024, 5, 1, 9, 30, 15, tzinfo=UTC), shipping_cost=Decimal("0"),
        comment="Shop order XKBKNABJK-42", carrier="Colissimo", price_list=None)


def test_sales_order_round_trip():
    command = a_sales_order()
    decoded = decode_sales_order(encode_sales_order(command), "commands[1]@3")
    assert decoded == command
    assert isinstance(decoded.command_id, uuid.UUID)
    assert isinstance(decoded.customer, Customer)
    assert all(isinstance(line, CommandLine) for line in decoded.lines)
    assert isinstance(decoded.lines, tuple)
    assert decoded.lines[0].unit_price == Decimal("16.583333")
    assert decoded.lines[1].id_order_detail is None
    assert decoded.ordered_at.tzinfo is not None
    assert decoded.net_total == command.net_total
    assert decoded.to_sales_order() == command.to_sales_order()


def test_sales_order_round_trip_with_price_list_and_cancel():
    command = dataclasses.replace(a_sales_order(), erp_action="cancel", price_list="RETAIL",
                                  shipping_cost=Decimal("4.99"))
    assert decode_sales_order(encode_sales_order(command), "w") == command


def test_encoded_sales_order_is_plain_json():
    data = json.loads(encode_sales_order(a_sales_order()))
    assert data["command_id"] == "7a1f7a3c-2b0d-5c4e-8f9a-0d1e2f3a4b5c"
    assert data["lines"][0]["quantity"] == "2"
    assert data["ordered_at"] == "2024-05-01T09:30:15+00:00"


def test_bad_sales_order():
    _bad(None, decode=decode_sales_order)
    _bad(b"[]", decode=decode_sales_order)
    data = json.loads(encode_sales_order(a_sales_order()))
    del data["customer"]
    assert "customer" in _bad(json.dumps(data).encode(), decode=decode_sales_order).reason
    data = json.loads(encode_sales_order(a_sales_order()))
    data["erp_action"] = "refund"
    assert "erp_action" in _bad(json.dumps(data).encode(), decode=decode_sales_order).reason


def test_product_command_only_for_the_product_level_row():
    from pssync.streams.shop_commands import product_command

    at = dt.datetime(2026, 11, 22, 10, 0)          # naive: read as UTC
    now = dt.datetime(2026, 11, 22, 10, 0, 1, tzinfo=dt.timezone.utc)
    command = product_command("demo_11", (6, 0), False, at, "erp-product:v1", 1, now)
    assert command is not None and command.active is False and command.id_product == 6
    assert command.changed_at.tzinfo is not None
    assert command.command_id == product_command("demo_11", (6, 0), False, at, "erp-product:v1", 1, now).command_id
    assert decode_shop_command(encode(command), "t[0]@1") == command
    assert command.key.resource == "product" and command.key.operation == "set_fields"
    assert product_command("demo_1-1", (1, 1), True, at, "erp-product:v2", 1, now) is None
