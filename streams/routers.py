"""The router: copies every source event to the internal topic partitioned by the key its
processor looks it up by (streams.routes). Stateless, so source topics may have any number of
partitions and any worker may route any of them."""
from __future__ import annotations

import logging
from typing import Any

from cdc.events import topic_for
from erp.topics import topic_name
from streams.app import app, cap, dead_letter_record, decode, guarded, is_echo, send_to_hub, settings
from streams.commands import BadCommand, decode_ack
from streams.routes import (ACKS, BROADCAST_TABLES, ORDER_TABLES, PRODUCT_TABLES, Unroutable, routes)

log = logging.getLogger(__name__)


def source_kinds() -> dict[str, str]:
    """Source topic -> the kind of its events."""
    mysql = settings.mysql
    kinds = {topic_for(cap.topic_prefix, mysql.database, mysql.table_prefix + t): t
             for t in (*ORDER_TABLES, *BROADCAST_TABLES, *PRODUCT_TABLES)
             if t in cap.tables}
    kinds[topic_for(cap.topic_prefix, mysql.database, "pssync_product_map")] = "pssync_product_map"
    for kind in ("stock", "price", "product"):
        kinds[topic_name(settings.erp.topic_prefix, kind)] = f"erp.{kind}"   # type: ignore[arg-type]
    kinds[settings.sinks.acks_topic] = ACKS
    return kinds


KINDS = source_kinds()
sources = app.topic(*sorted(KINDS), key_serializer="raw", value_serializer="raw")


async def route(topic: str, value: bytes | None, headers: Any) -> None:
    kind = KINDS[topic]
    if value is None:
        return                       # tombstone: the delete event before it carried the row
    try:
        event = {"id_order": decode_ack(value, topic).id_order} if kind == ACKS else decode(value)
    except BadCommand as exc:
        await dead_letter_record(topic, exc.reason, {"value_hex": value[:2048].hex()})
        return
    except Exception as exc:         # undecodable: parked with the reason, never blocks the stream
        await dead_letter_record(topic, f"undecodable: {type(exc).__name__}: {exc}", {"value_hex": value[:2048].hex()})
        return
    if event is None:
        return
    try:
        targets = routes(kind, event)
    except Unroutable as exc:
        await dead_letter_record(topic, str(exc), {"value_hex": value[:2048].hex()})
        return
    echo = is_echo(headers)
    for hub, key in targets:
        await send_to_hub(hub, key, value, kind, echo)


@app.agent(sources, name="route")
async def on_source_event(stream):
    async for event in stream.events():
        message = event.message
        await guarded(f"route:{message.topic}", message.value,
                      lambda: route(message.topic, message.value, message.headers))
