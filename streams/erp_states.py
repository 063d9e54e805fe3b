"""ERP sales-order states and shipments -> PrestaShop order-state and tracking commands. One event
gives its commands, nothing is looked up: read straight from the ERP topics (any partitions)."""
from __future__ import annotations

from erp.topics import topic_name
from streams.app import app, decode, guarded, mapping, settings, shop_commands, utc_now
from streams.commands import encode
from streams.shop_commands import state_command, tracking_command

sconf = settings.streams
prefix = mapping.shop_reference_prefix


def erp_topic(kind: str):
    return app.topic(topic_name(settings.erp.topic_prefix, kind), key_serializer="raw",  # type: ignore[arg-type]
                     value_serializer="raw")


async def handle_order_status(value: bytes | None) -> None:
    command = state_command(decode(value), sconf.erp_order_states, "order-status", prefix, utc_now())
    if command is not None:
        await shop_commands.send(key=command.kafka_key, value=encode(command))


async def handle_shipment(value: bytes | None) -> None:
    event, now = decode(value), utc_now()
    for command in (tracking_command(event, prefix, now),
                    state_command(event, sconf.erp_shipment_states, "shipment", prefix, now)):
        if command is not None:
            await shop_commands.send(key=command.kafka_key, value=encode(command))


@app.agent(erp_topic("order_status"), name="erp-order-states")
async def on_erp_order_status(stream):
    async for value in stream:
        await guarded("erp_order_status", value, lambda: handle_order_status(value))


@app.agent(erp_topic("shipment"), name="erp-shipments")
async def on_erp_shipment(stream):
    async for value in stream:
        await guarded("erp_shipment", value, lambda: handle_shipment(value))
