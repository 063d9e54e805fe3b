"""The contracts between stages on the wire: registered Avro in the Confluent wire format (magic
byte, schema id, body), so the data team reads every pssync topic with confluent-kafka's
AvroDeserializer.

Each contract's schema is a ``.avsc`` file beside this module; it is registered under
``<topic>-value`` with the registry's compatibility rule (BACKWARD), the first time a topic is
written. A record is read with the schema it was written with (fetched once by id) and resolved to
the schema of this version of pssync, then validated by the contract's own model: a record that
breaks its contract raises :class:`~pssync.schemas.commands.BadCommand` naming the record and the
reason.

| contract | schema | Python |
|---|---|---|
| shop commands | ``shop_command.avsc`` (a union of the five commands) | :mod:`pssync.schemas.commands` |
| sales-order commands | ``sales_order_command.avsc`` | :mod:`pssync.schemas.sales_order` |
| ERP acknowledgements | ``order_ack.avsc`` | :class:`~pssync.schemas.commands.OrderAck` |
| ownership violations, alerts, processors' dead letters | ``violation.avsc``, ``alert.avsc``, ``processor_dead_letter.avsc`` | plain dicts |
"""
from __future__ import annotations

import dataclasses
import io
import json
import struct
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

import fastavro
from pydantic import BaseModel, TypeAdapter, ValidationError

from pssync import schemas
from pssync.schemas.commands import (
    BadCommand,
    OrderAck,
    OrderStateCommand,
    PriceCommand,
    ProductCommand,
    ShopCommand,
    StockCommand,
    TrackingCommand,
    first_errors,
)
from pssync.schemas.sales_order import SalesOrderCommand

MAGIC = b"\x00"
NAMESPACE = "pssync.contracts"
SCALE = 6                                   # every decimal of the contracts: DECIMAL(20,6), as PrestaShop's
_STEP = Decimal(1).scaleb(-SCALE)

SHOP_COMMAND, SALES_ORDER, ORDER_ACK = "shop_command", "sales_order_command", "order_ack"
VIOLATION, ALERT, PROCESSOR_DEAD_LETTER = "violation", "alert", "processor_dead_letter"
CONTRACTS = (SHOP_COMMAND, SALES_ORDER, ORDER_ACK, VIOLATION, ALERT, PROCESSOR_DEAD_LETTER)

_shop_command = TypeAdapter(ShopCommand)
_sales_order = TypeAdapter(SalesOrderCommand)
_ack = TypeAdapter(OrderAck)
_SHOP_TYPES = (StockCommand, PriceCommand, ProductCommand, OrderStateCommand, TrackingCommand)


class SchemaStore(Protocol):
    """Where schemas are registered and found again by id: the schema registry in a running
    system (:class:`RegistryStore`), a dict in unit tests and offline tools (:class:`MemoryStore`)."""

    def register(self, subject: str, schema: Any) -> int: ...

    def schema(self, schema_id: int) -> Any: ...


class RegistryStore:
    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def register(self, subject: str, schema: Any) -> int:
        return self.registry.register(subject, schema)

    def schema(self, schema_id: int) -> Any:
        return self.registry.schema(schema_id)


class MemoryStore:
    """Schemas by id in memory (no compatibility checks): for unit tests and offline tools."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._schemas: dict[int, Any] = {}

    def register(self, subject: str, schema: Any) -> int:
        text = json.dumps(schema, sort_keys=True)
        if text not in self._ids:
            self._ids[text] = len(self._ids) + 1
            self._schemas[self._ids[text]] = schema
        return self._ids[text]

    def schema(self, schema_id: int) -> Any:
        return self._schemas[schema_id]


class Codec:
    """Encodes contract messages for a topic and decodes them back, validated."""

    def __init__(self, store: SchemaStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._writers: dict[tuple[str, str], tuple[bytes, Any]] = {}    # (topic, contract) -> header, parsed
        self._readers: dict[tuple[int, str | None], Any] = {}           # (schema id, contract) -> writer, reader
        self._local = {name: fastavro.parse_schema(schemas.load(name)) for name in CONTRACTS}

    @classmethod
    def from_settings(cls, settings: Any) -> "Codec":
        from pssync.bus.registry import Registry

        return cls(RegistryStore(Registry(settings.registry)))

    # ---- writing ------------------------------------------------------------------------------
    def prepare(self, topic: str, contract: str) -> None:
        """Register the contract's schema for ``topic`` now (e.g. at start, before an event loop runs)."""
        self._writer(topic, contract)

    def _writer(self, topic: str, contract: str) -> tuple[bytes, Any]:
        key = (topic, contract)
        found = self._writers.get(key)
        if found is None:
            with self._lock:
                schema_id = self.store.register(f"{topic}-value", schemas.load(contract))
                found = (MAGIC + struct.pack(">I", schema_id), self._local[contract])
                self._writers[key] = found
        return found

    def encode(self, topic: str, message: Any) -> bytes:
        """A contract message (a shop command, a sales-order command, an ack) for ``topic``."""
        if isinstance(message, _SHOP_TYPES):
            contract = SHOP_COMMAND
            record: Any = (f"{NAMESPACE}.{type(message).__name__}", _exact(message.model_dump(), message.command_id))
        elif isinstance(message, OrderAck):
            contract, record = ORDER_ACK, _exact(message.model_dump(), message.command_id)
        elif isinstance(message, SalesOrderCommand):
            contract, record = SALES_ORDER, _exact(dataclasses.asdict(message), str(message.command_id))
        else:
            raise TypeError(f"not a contract message: {type(message).__name__}")
        return self.encode_record(topic, contract, record)

    def encode_record(self, topic: str, contract: str, record: Any) -> bytes:
        """A record (dict) of one of the contracts, as its schema describes it."""
        header, parsed = self._writer(topic, contract)
        buf = io.BytesIO()
        buf.write(header)
        fastavro.schemaless_writer(buf, parsed, record)
        return buf.getvalue()

    # ---- reading ------------------------------------------------------------------------------
    def decode_record(self, value: bytes | None, where: str, contract: str | None = None) -> Any:
        """The record as written, resolved to this version's schema of ``contract`` when given."""
        if value is None:
            raise BadCommand("empty message (tombstone)", where)
        if value[:1] != MAGIC or len(value) < 5:
            raise BadCommand("not Avro in the Confluent wire format (no magic byte and schema id)", where)
        schema_id = struct.unpack(">I", value[1:5])[0]
        pair = self._readers.get((schema_id, contract))
        if pair is None:
            try:
                writer = fastavro.parse_schema(self.store.schema(schema_id))
            except Exception as exc:
                if getattr(exc, "http_status_code", None) == 404 or isinstance(exc, KeyError):
                    raise BadCommand(f"schema id {schema_id} is not in the registry", where) from None
                raise
            pair = (writer, self._local[contract] if contract else None)
            self._readers[(schema_id, contract)] = pair
        try:
            return fastavro.schemaless_reader(io.BytesIO(value[5:]), pair[0], pair[1])
        except Exception as exc:   # a body that does not match its schema, or cannot resolve to ours
            raise BadCommand(f"cannot decode with schema id {schema_id}: {type(exc).__name__}: {exc}",
                             where) from None

    def show(self, value: bytes | None, width: int = 200) -> str:
        """A one-line rendering for people: the record as JSON when it is registered Avro, else
        :func:`~pssync.schemas.dead_letters.preview` of its bytes."""
        from pssync.schemas.dead_letters import preview

        if value is None or value[:1] != MAGIC:
            return preview(value, width)
        try:
            text = json.dumps(self.decode_record(value, "show"), default=str, ensure_ascii=False)
        except Exception:   # not decodable here (registry unreachable, unknown schema): the bytes
            return preview(value, width)
        return text if len(text) <= width else text[: width - 1] + "…"

    def shop_command(self, value: bytes | None, where: str) -> (StockCommand | PriceCommand | ProductCommand
                                                                 | OrderStateCommand | TrackingCommand):
        return _validate(_shop_command, self.decode_record(value, where, SHOP_COMMAND), where)

    def sales_order(self, value: bytes | None, where: str) -> SalesOrderCommand:
        return _validate(_sales_order, self.decode_record(value, where, SALES_ORDER), where)

    def ack(self, value: bytes | None, where: str) -> OrderAck:
        return _validate(_ack, self.decode_record(value, where, ORDER_ACK), where)


def _validate(adapter: TypeAdapter, record: Any, where: str) -> Any:
    try:
        return adapter.validate_python(record)
    except ValidationError as exc:
        raise BadCommand(first_errors(exc), where) from None


def _exact(value: Any, where: str) -> Any:
    """The message as Avro takes it: decimals at the contracts' scale, refused when that would
    change them; tuples as lists."""
    if isinstance(value, Decimal):
        quantized = value.quantize(_STEP)
        if quantized != value:
            raise BadCommand(f"{value} has more than {SCALE} decimal places", where)
        return quantized
    if isinstance(value, Mapping):
        return {k: _exact(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact(v, where) for v in value]
    if isinstance(value, BaseModel):
        return _exact(value.model_dump(), where)
    return value
