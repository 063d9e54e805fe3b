"""Everything the processors write, as the bytes that go on each topic.

Handlers are given an ``Outputs``: in the worker its topics are Faust topics (streams.worker), in
unit tests recording stand-ins; either way the keys, values and headers are made here, once. The
dead-letter record (``dead_letter_record``) and the JSON default for values JSON cannot hold
(``_plain``) are defined here only.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Protocol

from pssync.jsontext import plain as _plain
from pssync.schemas.codec import ALERT, PROCESSOR_DEAD_LETTER, SALES_ORDER, SHOP_COMMAND, VIOLATION, Codec
from pssync.schemas.dead_letters import error_headers
from pssync.streams.routes import KIND_HEADER, Hub, product_key

log = logging.getLogger(__name__)


class Topic(Protocol):
    """What is used of a Faust topic: ``send`` with raw bytes."""

    async def send(self, *, key: bytes | None = None, value: bytes | None = None, partition: int | None = None,
                   headers: Any = None) -> Any: ...

    def get_topic_name(self) -> str: ...


class Outputs:
    def __init__(self, *, commands: Topic, shop_commands: Topic, dead_letters: Topic, violations: Topic,
                 alerts: Topic, hubs: Mapping[Hub, Topic], codec: Codec) -> None:
        """``codec``: the contracts' wire format (registered Avro); the topics' schemas are
        registered here, before the event loop runs."""
        self.codec = codec
        self.commands = commands
        self.shop_commands = shop_commands
        self.dead_letters = dead_letters
        self.violations = violations
        self.alerts = alerts
        self.hubs = hubs
        for topic, contract in ((commands, SALES_ORDER), (shop_commands, SHOP_COMMAND), (violations, VIOLATION),
                                (alerts, ALERT), (dead_letters, PROCESSOR_DEAD_LETTER)):
            codec.prepare(topic.get_topic_name(), contract)

    def _encode(self, topic: Topic, message: Any) -> bytes:
        return self.codec.encode(topic.get_topic_name(), message)

    def _record(self, topic: Topic, contract: str, record: Any) -> bytes:
        return self.codec.encode_record(topic.get_topic_name(), contract, record)

    async def sales_order(self, command: Any) -> None:
        """A SalesOrderCommand, keyed by the order's shop reference: the commands of one order (a
        create, then a cancel) stay in one partition, in order, and the ERP sink applies them so."""
        await self.commands.send(key=command.shop_reference.encode(), value=self._encode(self.commands, command))

    async def shop_command(self, command: Any) -> None:
        """A price, product, stock, order-state or tracking command, keyed by the row it changes."""
        await self.shop_commands.send(key=command.kafka_key, value=self._encode(self.shop_commands, command))

    async def dead_letter_record(self, where: str, reason: str, record: Any, key: bytes | None = None) -> None:
        """A record the processors cannot use: parked with the reason, processing goes on."""
        log.error("%s: dead-lettered: %s", where, reason)
        value = self._record(self.dead_letters, PROCESSOR_DEAD_LETTER, {
            "source": where, "reason": reason, "record": json.dumps(record, default=_plain, sort_keys=True)})
        await self.dead_letters.send(key=key or where.encode(), value=value, headers=error_headers(reason, topic=where))

    async def dead_letter_order(self, id_order: int, reason: str, record: Any) -> None:
        """An order that cannot become a command, keyed by the order."""
        await self.dead_letter_record(f"order {id_order}", reason, {"id_order": id_order, **record},
                                      key=str(id_order).encode())

    async def violation(self, key: dict[str, Any], body: dict[str, Any]) -> None:
        """An ownership violation; the column values travel as text."""
        record = {**body, "key": {k: (v if v is None or isinstance(v, int) else str(v)) for k, v in key.items()},
                  "before": _text(body.get("before")), "after": _text(body.get("after"))}
        await self.violations.send(key=json.dumps(key, sort_keys=True).encode(),
                                   value=self._record(self.violations, VIOLATION, record))

    async def alert(self, key: str, body: dict[str, Any]) -> None:
        await self.alerts.send(key=key.encode(), value=self._record(self.alerts, ALERT, body))

    async def to_hub(self, hub: Hub, key: str, value: bytes, kind: str) -> None:
        """An event for a hub, to the key's partition (the router puts source events there the same way)."""
        await self.hubs[hub].send(key=key.encode(), value=value, headers={KIND_HEADER: kind.encode()})

    async def to_hub_partition(self, hub: Hub, partition: int, value: bytes, kind: str) -> None:
        """A request for one partition of a hub (key ``*``): what must run where that state lives."""
        await self.hubs[hub].send(key=b"*", value=value, partition=partition, headers={KIND_HEADER: kind.encode()})

    async def stock_event(self, id_product: int, kind: str, **fields: Any) -> None:
        """A fact for the stock processor, to the product's partition."""
        await self.to_hub("stock", product_key(id_product), json.dumps(
            {**fields, "id_product": int(id_product)}, default=_plain).encode(), kind)


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(_plain(value))
