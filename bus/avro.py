"""Avro in the Confluent wire format: magic byte 0, 4-byte schema id, schemaless Avro body."""
from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

import fastavro

MAGIC = b"\x00"


class AvroEncoder:
    __slots__ = ("schema_id", "parsed", "_header")

    def __init__(self, schema_id: int, schema: dict[str, Any]) -> None:
        self.schema_id = schema_id
        self.parsed = fastavro.parse_schema(schema)
        self._header = MAGIC + struct.pack(">I", schema_id)

    def encode(self, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(self._header)
        fastavro.schemaless_writer(buf, self.parsed, record)
        return buf.getvalue()


def decode(payload: bytes, schema: dict[str, Any]) -> Any:
    if payload[:1] != MAGIC:
        raise ValueError("not Confluent wire-format Avro (magic byte missing)")
    return fastavro.schemaless_reader(io.BytesIO(payload[5:]), fastavro.parse_schema(schema))


def schema_id_of(payload: bytes) -> int:
    return struct.unpack(">I", payload[1:5])[0]


class RegistryDecoder:
    """Decodes wire-format Avro of any subject, fetching each writer schema once by its id.
    ``adapter``, given the writer schema (JSON), may return a function applied to each record
    decoded with it (e.g. :func:`pssync.schemas.change_events.row_adapter`)."""

    def __init__(self, client: Any, adapter: Callable[[Any], Callable[[Any], Any] | None] | None = None) -> None:
        self.client = client
        self.adapter = adapter
        self._schemas: dict[int, tuple[Any, Callable[[Any], Any] | None]] = {}

    def __call__(self, payload: bytes | None) -> Any:
        if payload is None:
            return None
        schema_id = schema_id_of(payload)
        found = self._schemas.get(schema_id)
        if found is None:
            import json

            schema = json.loads(self.client.get_schema(schema_id).schema_str)
            found = (fastavro.parse_schema(schema), self.adapter(schema) if self.adapter else None)
            self._schemas[schema_id] = found
        record = fastavro.schemaless_reader(io.BytesIO(payload[5:]), found[0])
        return found[1](record) if found[1] is not None else record
