"""Everything the processors write, as the bytes that go on each topic.

Handlers are given an ``Outputs``: in the worker its topics are Faust topics (streams.worker), in
unit tests recording stand-ins; either way the keys, values and headers are made here, once. The
dead-letter record (``dead_letter_record``) and the JSON default for values JSON cannot hold
(``_plain``) are defined here only.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from decimal import Decimal
from typing import Any, Mapping, Protocol

from pssync.streams.commands import encode, encode_sales_order
from pssync.streams.routes import KIND_HEADER, Hub, product_key

log = logging.getLogger(__name__)


class Topic(Protocol):
    """What is used of a Faust topic: ``send`` with raw bytes."""

    async def send(self, *, key: bytes | None = None, value: bytes | None = None, partition: int | None = None,
                   headers: Mapping[str, bytes] | None = None) -> Any: ...


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


class Outputs:
    def __init__(self, *, commands: Topic, shop_commands: Topic, dead_letters: Topic, violations: Topic,
                 alerts: Topic, hubs: Mapping[Hub, Topic]) -> None:
        self.commands = commands
        self.shop_commands = shop_commands
        self.dead_letters = dead_letters
        self.violations = violations
        self.alerts = alerts
        self.hubs = hubs

    async def sales_order(self, command: Any) -> None:
        """A SalesOrderCommand, keyed by its command id."""
        await self.commands.send(key=str(command.command_id).encode(), value=encode_sales_order(command))

    async def shop_command(self, command: Any) -> None:
        """A price, product, stock, order-state or tracking command, keyed by the row it changes."""
        await self.shop_commands.send(key=command.kafka_key, value=encode(command))

    async def dead_letter_record(self, where: str, reason: str, record: Any) -> None:
        """A record the processors cannot use: parked with the reason, processing goes on."""
        log.error("%s: dead-lettered: %s", where, reason)
        await self.dead_letters.send(key=where.encode(), value=json.dumps(
            {"source": where, "reason": reason, "record": record}, default=_plain).encode(),
            headers={"__connect.errors.exception.message": reason.encode(),
                     "__connect.errors.topic": where.encode()})

    async def dead_letter_order(self, id_order: int, reason: str, record: Any) -> None:
        """An order that cannot become a command, keyed by the order."""
        await self.dead_letters.send(key=str(id_order).encode(), value=json.dumps(
            {"id_order": id_order, "reason": reason, "record": record}, default=_plain).encode(),
            headers={"__connect.errors.exception.message": reason.encode()})

    async def violation(self, key: dict[str, Any], body: dict[str, Any]) -> None:
        await self.violations.send(key=json.dumps(key, sort_keys=True).encode(),
                                   value=json.dumps(body, default=_plain).encode())

    async def alert(self, key: str, body: dict[str, Any]) -> None:
        await self.alerts.send(key=key.encode(), value=json.dumps(body).encode())

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
