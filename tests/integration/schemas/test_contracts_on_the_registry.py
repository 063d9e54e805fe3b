"""The contracts between stages on the real Kafka and the real registry: registered BACKWARD under
<topic>-value, read back by confluent-kafka's own AvroDeserializer (what the data team uses) and by
pssync's codec, and a schema change that would break readers is refused by the registry."""
from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from pssync import schemas
from pssync.bus.kafka import ensure_topics, idempotent_producer
from pssync.bus.registry import IncompatibleSchema, Registry, registry_client
from pssync.schemas.codec import ALERT, Codec, RegistryStore
from tests.integration.support import read_settled
from tests.unit.schemas.test_codec import a_sales_order, an_ack
from tests.unit.streams.test_shop_commands import a_price_command, a_stock_command

pytestmark = pytest.mark.integration


def read_values(settings, topic: str, count: int) -> list[tuple[bytes, bytes]]:
    return [(m.key(), m.value()) for m in read_settled(settings.kafka.bootstrap_servers, [topic], min_count=count)]


def test_every_contract_is_registered_and_read_by_confluents_deserializer(scratch):
    settings = scratch.settings()
    registry = Registry(settings.registry)
    codec = Codec(RegistryStore(registry))
    topics = {"shop": f"{scratch.prefix}.commands.shop", "orders": f"{scratch.prefix}.commands",
              "acks": f"{scratch.prefix}.acks", "alerts": f"{scratch.prefix}.alerts"}
    ensure_topics(settings.kafka, {t: {} for t in topics.values()}, partitions=1)
    stock, price, order, ack = a_stock_command(), a_price_command(), a_sales_order(), an_ack()
    producer = idempotent_producer(settings.kafka)
    producer.produce(topics["shop"], key=stock.kafka_key, value=codec.encode(topics["shop"], stock))
    producer.produce(topics["shop"], key=price.kafka_key, value=codec.encode(topics["shop"], price))
    producer.produce(topics["orders"], key=str(order.command_id).encode(), value=codec.encode(topics["orders"], order))
    producer.produce(topics["acks"], key=ack.shop_reference.encode(), value=codec.encode(topics["acks"], ack))
    producer.produce(topics["alerts"], key=b"TS-M", value=codec.encode_record(topics["alerts"], ALERT, {
        "kind": "stock_drift", "sku": "TS-M", "id_product": 1, "id_product_attribute": 2, "shop_quantity": 3,
        "computed": 9, "delta": -6, "reason": "too large to correct", "shop_gtid": "0-1-9",
        "erp_as_of": stock.erp_as_of, "at": stock.created_at}))
    assert producer.flush(30) == 0

    client = registry_client(settings.registry.url)
    deserializer = AvroDeserializer(client)
    for topic in topics.values():
        assert str(client.get_compatibility(f"{topic}-value")).upper() == "BACKWARD"

    def data_team(topic: str, count: int) -> list[dict]:
        return [deserializer(v, SerializationContext(topic, MessageField.VALUE)) for _, v in read_values(settings, topic, count)]

    shop = data_team(topics["shop"], 2)
    assert [r["type"] for r in shop] == ["stock", "price"]
    assert shop[0]["quantity"] == stock.quantity and shop[0]["known_orders"] == list(stock.known_orders)
    assert shop[1]["price"] == Decimal("19.900000") and shop[1]["changed_at"] == price.changed_at
    (sales_order,) = data_team(topics["orders"], 1)
    assert sales_order["shop_reference"] == order.shop_reference
    assert [line["unit_price"] for line in sales_order["lines"]] == [line.unit_price for line in order.lines]
    (acked,) = data_team(topics["acks"], 1)
    assert acked["lines"] == {"TS-M": Decimal("2.000000"), "MUG": Decimal("1.500000")}
    (alert,) = data_team(topics["alerts"], 1)
    assert alert["delta"] == -6 and alert["sku"] == "TS-M"

    # and pssync's own stages read them back exactly, with a fresh codec (schemas fetched by id)
    reader = Codec(RegistryStore(Registry(settings.registry)))
    assert [reader.shop_command(v, "w") for _, v in read_values(settings, topics["shop"], 2)] == [stock, price]
    assert reader.sales_order(read_values(settings, topics["orders"], 1)[0][1], "w") == order
    assert reader.ack(read_values(settings, topics["acks"], 1)[0][1], "w") == ack


def test_a_contract_change_that_breaks_readers_is_refused_by_the_registry(scratch):
    settings = scratch.settings()
    registry = Registry(settings.registry)
    subject = f"{scratch.prefix}.acks-value"
    registry.register(subject, schemas.load("order_ack"))
    broken = copy.deepcopy(schemas.load("order_ack"))
    broken["fields"].append({"name": "warehouse", "type": "string"})     # new required field, no default
    with pytest.raises(IncompatibleSchema, match="BACKWARD"):
        registry.register(subject, broken)
