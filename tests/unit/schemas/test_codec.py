"""schemas/codec.py: every contract survives encode -> decode unchanged in the Confluent wire
format, resolves across schema versions, and a record that breaks its contract is refused with the
record and the reason (against the real registry: tests/integration/schemas/)."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import struct
import uuid
from decimal import Decimal

import fastavro
import pytest

from pssync import schemas
from pssync.erp.base import Address, Customer
from pssync.schemas.codec import SALES_ORDER, SHOP_COMMAND, Codec, MemoryStore
from pssync.schemas.commands import BadCommand, OrderAck, PriceCommand
from pssync.schemas.sales_order import CommandLine, SalesOrderCommand
from tests.unit.streams.test_shop_commands import (AS_OF, a_price_command, a_state_command, a_stock_command,
                                                   a_tracking_command)

UTC = dt.timezone.utc
TOPIC = "shop.commands"


@pytest.fixture()
def codec() -> Codec:
    return Codec(MemoryStore())


def an_ack() -> OrderAck:
    return OrderAck(command_id=str(uuid.uuid4()), action="create", id_order=42, shop_reference="XKBKNABJK-42",
                    erp_order_id="SO-17", created=True, acked_at=AS_OF,
                    lines={"TS-M": Decimal("2"), "MUG": Decimal("1.5")})


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


def _bad(decode, value: bytes | None) -> BadCommand:
    with pytest.raises(BadCommand) as info:
        decode(value, "shop-commands[2]@17")
    exc = info.value
    assert exc.record == "shop-commands[2]@17" and str(exc).startswith("shop-commands[2]@17: ")
    return exc


def _raw(codec: Codec, value: bytes, contract: str) -> dict:
    return codec.decode_record(value, "w", contract)


# ---- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [a_stock_command, a_price_command, a_state_command, a_tracking_command],
                         ids=["stock", "price", "order_state", "tracking"])
def test_shop_command_round_trip(codec, make):
    command = make()
    decoded = codec.shop_command(codec.encode(TOPIC, command), "shop-commands[0]@5")
    assert type(decoded) is type(command) and decoded == command
    assert decoded.key == command.key and decoded.kafka_key == command.kafka_key


def test_decimals_stay_exact_and_datetimes_aware(codec):
    decoded = codec.shop_command(codec.encode(TOPIC, a_price_command()), "w")
    assert isinstance(decoded, PriceCommand) and decoded.price == Decimal("19.90")
    assert decoded.changed_at == AS_OF and decoded.changed_at.tzinfo is not None


def test_a_decimal_with_more_places_than_the_contract_is_refused_not_rounded(codec):
    command = a_price_command().model_copy(update={"price": Decimal("19.9000001")})
    with pytest.raises(BadCommand, match="more than 6 decimal places"):
        codec.encode(TOPIC, command)


def test_ack_round_trip(codec):
    ack = an_ack()
    decoded = codec.ack(codec.encode("acks", ack), "acks[0]@1")
    assert decoded == ack and decoded.lines == {"TS-M": Decimal(2), "MUG": Decimal("1.5")}


def test_sales_order_round_trip(codec):
    command = a_sales_order()
    decoded = codec.sales_order(codec.encode("commands", command), "commands[1]@3")
    assert decoded == command
    assert isinstance(decoded.command_id, uuid.UUID) and isinstance(decoded.customer, Customer)
    assert isinstance(decoded.lines, tuple) and all(isinstance(line, CommandLine) for line in decoded.lines)
    assert decoded.lines[1].id_order_detail is None
    assert decoded.to_sales_order() == command.to_sales_order()
    cancel = dataclasses.replace(command, erp_action="cancel", price_list="RETAIL", shipping_cost=Decimal("4.99"))
    assert codec.sales_order(codec.encode("commands", cancel), "w") == cancel


# ---- what the data team reads ------------------------------------------------------------------

def test_every_contract_schema_parses_and_names_its_namespace():
    for name in ("shop_command", "sales_order_command", "order_ack", "violation", "alert", "processor_dead_letter"):
        schema = schemas.load(name)
        fastavro.parse_schema(schema)
        records = schema if isinstance(schema, list) else [schema]
        assert all(r["namespace"] == "pssync.contracts" for r in records)


# ---- schema evolution -----------------------------------------------------------------------------

def _write_with(store: MemoryStore, schema, record) -> bytes:
    schema_id = store.register("x-value", schema)
    buf = io.BytesIO()
    buf.write(b"\x00" + struct.pack(">I", schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def test_a_record_from_a_newer_writer_with_one_more_field_still_decodes(codec):
    newer = copy.deepcopy(schemas.load("order_ack"))
    newer["fields"].append({"name": "erp_site", "type": "string", "default": ""})
    record = {**an_ack().model_dump(), "lines": {}, "erp_site": "WH-2"}
    decoded = codec.ack(_write_with(codec.store, newer, record), "w")
    assert decoded.erp_order_id == "SO-17"


def test_a_record_missing_a_required_field_is_refused(codec):
    older = copy.deepcopy(schemas.load("order_ack"))
    older["fields"] = [f for f in older["fields"] if f["name"] != "erp_order_id"]
    record = {k: v for k, v in an_ack().model_dump().items() if k != "erp_order_id"}
    assert "schema id" in _bad(codec.ack, _write_with(codec.store, older, record)).reason


# ---- refusals ------------------------------------------------------------------------------------

def test_tombstone_garbage_and_unknown_schema_are_refused(codec):
    assert "tombstone" in _bad(codec.shop_command, None).reason
    assert "wire format" in _bad(codec.shop_command, b'{"type": "stock"}').reason
    assert "schema id 999" in _bad(codec.shop_command, b"\x00" + struct.pack(">I", 999) + b"\x02").reason
    good = codec.encode(TOPIC, a_stock_command())
    assert "cannot decode" in _bad(codec.shop_command, good[:12]).reason


def test_a_record_that_breaks_the_model_is_refused_with_the_field(codec):
    stock = _raw(codec, codec.encode(TOPIC, a_stock_command()), SHOP_COMMAND)
    negative = codec.encode_record(TOPIC, SHOP_COMMAND, ("pssync.contracts.StockCommand", {**stock, "quantity": -1}))
    assert "quantity" in _bad(codec.shop_command, negative).reason
    teleport = codec.encode_record(TOPIC, SHOP_COMMAND, ("pssync.contracts.StockCommand", {**stock, "type": "teleport"}))
    _bad(codec.shop_command, teleport)
    order = _raw(codec, codec.encode("commands", a_sales_order()), SALES_ORDER)
    bad_state = codec.encode_record("commands", SALES_ORDER, {**order, "erp_action": "cancel", "lines": []})
    assert codec.sales_order(bad_state, "w").lines == ()
    # a record of another contract on the wrong topic does not resolve to this one
    assert "cannot decode" in _bad(codec.sales_order, codec.encode(TOPIC, a_stock_command())).reason
