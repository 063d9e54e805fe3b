"""Avro in the Confluent wire format: magic byte 0, 4-byte schema id, schemaless Avro body."""
from __future__ import annotations

import io
import struct
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
    """Decodes wire-format Avro of any subject, fetching each writer schema once by its id."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._schemas: dict[int, Any] = {}

    def __call__(self, payload: bytes | None) -> Any:
        if payload is None:
            return None
        schema_id = schema_id_of(payload)
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            import json

            parsed = fastavro.parse_schema(json.loads(self.client.get_schema(schema_id).schema_str))
            self._schemas[schema_id] = parsed
        return fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)
