"""Avro schemas for change events, derived from a TableDef.

The value envelope follows Debezium's MySQL connector (before/after/source/op/ts_ms/transaction),
so consumers written for Debezium topics read these unchanged. Every value column is optional in
Avro (default null): zero dates become null, and ALTER TABLE ADD/DROP/MODIFY stays BACKWARD
compatible. Key columns are required. The schema only depends on column names, kinds, precision,
scale and allowed values, so the snapshot path and the binlog path register the same version.
"""
from __future__ import annotations

import re
from typing import Any

from pssync.cdc.columns import Column, Kind, TableDef

SOURCE_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Source",
    "namespace": "io.debezium.connector.mysql",
    "fields": [
        {"name": "version", "type": "string"},
        {"name": "connector", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "ts_ms", "type": "long"},
        {"name": "snapshot", "type": {"type": "string", "connect.name": "io.debezium.data.Enum",
                                      "connect.parameters": {"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}},
         "default": "false"},
        {"name": "db", "type": "string"},
        {"name": "sequence", "type": ["null", "string"], "default": None},
        {"name": "table", "type": ["null", "string"], "default": None},
        {"name": "server_id", "type": "long"},
        {"name": "gtid", "type": ["null", "string"], "default": None},
        {"name": "file", "type": "string"},
        {"name": "pos", "type": "long"},
        {"name": "row", "type": "int"},
        {"name": "thread", "type": ["null", "long"], "default": None},
        {"name": "query", "type": ["null", "string"], "default": None},
    ],
}

TRANSACTION_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "block",
    "namespace": "event",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "total_order", "type": "long"},
        {"name": "data_collection_order", "type": "long"},
    ],
}


def avro_namespace(topic_prefix: str, database: str, table: str) -> str:
    return ".".join(_avro_name(part) for part in (topic_prefix, database, table))


def _avro_name(part: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", part)
    return name if re.match(r"[A-Za-z_]", name) else "_" + name


def column_type(col: Column) -> Any:
    kind = col.kind
    if kind in (Kind.INT, Kind.YEAR):
        return "int"
    if kind == Kind.LONG:
        return "long"
    if kind == Kind.UNSIGNED_LONG:
        return {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 0}
    if kind == Kind.DECIMAL:
        return {"type": "bytes", "logicalType": "decimal",
                "precision": col.precision, "scale": col.scale}
    if kind == Kind.FLOAT:
        return "float"
    if kind == Kind.DOUBLE:
        return "double"
    if kind == Kind.STRING:
        return "string"
    if kind == Kind.BYTES:
        return "bytes"
    if kind in (Kind.ENUM, Kind.SET):
        name = "io.debezium.data.Enum" if kind == Kind.ENUM else "io.debezium.data.EnumSet"
        return {"type": "string", "connect.name": name,
                "connect.parameters": {"allowed": ",".join(col.values)}}
    if kind == Kind.JSON:
        return {"type": "string", "connect.name": "io.debezium.data.Json"}
    if kind == Kind.DATE:
        return {"type": "int", "logicalType": "date"}
    if kind in (Kind.DATETIME, Kind.TIMESTAMP):
        logical = "timestamp-millis" if col.fsp <= 3 else "timestamp-micros"
        return {"type": "long", "logicalType": logical}
    if kind == Kind.TIME:
        return {"type": "long", "connect.name": "io.debezium.time.MicroTime"}
    if kind == Kind.BIT:
        return "boolean" if (col.precision or 1) == 1 else "bytes"
    raise ValueError(f"no Avro type for {kind}")


def key_schema(table: TableDef, topic_prefix: str) -> dict[str, Any]:
    if not table.primary_key:
        raise ValueError(f"{table.database}.{table.table} has no primary key; it cannot be keyed")
    return {
        "type": "record",
        "name": "Key",
        "namespace": avro_namespace(topic_prefix, table.database, table.table),
        "fields": [{"name": name, "type": column_type(table.column(name))}
                   for name in table.primary_key],
    }


def value_schema(table: TableDef, topic_prefix: str) -> dict[str, Any]:
    namespace = avro_namespace(topic_prefix, table.database, table.table)
    row = {
        "type": "record",
        "name": "Value",
        "namespace": namespace,
        "fields": [{"name": col.name, "type": ["null", column_type(col)], "default": None}
                   for col in table.columns],
    }
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": namespace,
        "connect.name": f"{namespace}.Envelope",
        "fields": [
            {"name": "before", "type": ["null", row], "default": None},
            {"name": "after", "type": ["null", f"{namespace}.Value"], "default": None},
            {"name": "source", "type": SOURCE_SCHEMA},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
            {"name": "transaction", "type": ["null", TRANSACTION_SCHEMA], "default": None},
        ],
    }


TRANSACTION_KEY_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "TransactionMetadataKey", "namespace": "io.debezium.connector.common",
    "fields": [{"name": "id", "type": "string"}],
}

TRANSACTION_VALUE_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "TransactionMetadataValue", "namespace": "io.debezium.connector.common",
    "fields": [
        {"name": "status", "type": "string"},
        {"name": "id", "type": "string"},
        {"name": "event_count", "type": ["null", "long"], "default": None},
        {"name": "data_collections", "default": None, "type": ["null", {"type": "array", "items": {
            "type": "record", "name": "ConnectDefault", "namespace": "io.confluent.connect.avro",
            "fields": [{"name": "data_collection", "type": "string"},
                       {"name": "event_count", "type": "long"}]}}]},
        {"name": "ts_ms", "type": "long"},
    ],
}
