"""Avro schemas for change events, derived from a TableDef: the schemas Debezium's MariaDB connector
produces through Kafka Connect's Avro converter, so consumers written for Debezium read these unchanged.

Each column gets the Connect type Debezium gives it (:func:`connect_type`), rendered as the converter
renders Connect schemas (:func:`render`): ``connect.name``, ``connect.version``,
``connect.parameters`` and ``connect.type`` properties, the Avro logical type where Connect has one,
and ``connect.default`` beside the field's default. NOT NULL columns are required; nullable ones are
a union with null (null first, unless the column has a default, which then comes first as Avro
requires of a union's default). Key columns are required.

Debezium's settings that change the mapping are offered under the same names and values
(:class:`TypeModes`: ``capture.time_precision_mode``, ``capture.decimal_handling_mode``,
``capture.bigint_unsigned_handling_mode``). The schema depends only on the column descriptions, so
the snapshot path and the binlog path register the same version.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pssync.cdc.columns import Column, Kind, TableDef

CONNECTOR = "mariadb"                     # Debezium's MariaDB connector's name for itself
ENVELOPE_VERSION = 2                      # Debezium's envelope schema version

TimePrecisionMode = Literal["adaptive_time_microseconds", "adaptive", "connect"]
DecimalHandlingMode = Literal["precise", "double", "string"]
BigintUnsignedHandlingMode = Literal["long", "precise"]


@dataclass(frozen=True)
class TypeModes:
    """Debezium's connector settings that change how columns map to Connect types, same values."""

    time_precision_mode: TimePrecisionMode = "adaptive_time_microseconds"
    decimal_handling_mode: DecimalHandlingMode = "precise"
    bigint_unsigned_handling_mode: BigintUnsignedHandlingMode = "long"

    @classmethod
    def of(cls, capture: Any) -> "TypeModes":
        return cls(capture.time_precision_mode, capture.decimal_handling_mode,
                   capture.bigint_unsigned_handling_mode)


DEFAULT_MODES = TypeModes()


@dataclass(frozen=True)
class ConnectType:
    """A Connect schema, as far as columns need one: the Avro primitive it becomes, and the Connect
    metadata the Avro converter writes beside it."""

    avro: str                                           # int, long, float, double, boolean, string, bytes
    name: str | None = None                             # connect.name (a Connect or Debezium logical type)
    version: int | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    connect_type: str | None = None                     # int8 / int16: narrower than Avro's int
    logical: tuple[tuple[str, Any], ...] = field(default=())   # Avro logicalType and its properties


def _named(avro: str, name: str, **parameters: str) -> ConnectType:
    return ConnectType(avro, name, 1, tuple(parameters.items()))


_INT16 = ConnectType("int", connect_type="int16")


def _decimal(precision: int, scale: int) -> ConnectType:
    return ConnectType("bytes", "org.apache.kafka.connect.data.Decimal", 1,
                       (("scale", str(scale)), ("connect.decimal.precision", str(precision))),
                       logical=(("logicalType", "decimal"), ("precision", precision), ("scale", scale)))


def connect_type(col: Column, modes: TypeModes = DEFAULT_MODES) -> ConnectType:
    """The Connect type Debezium's MariaDB connector gives ``col`` under ``modes``."""
    kind = col.kind
    if kind == Kind.SHORT:
        return _INT16
    if kind == Kind.INT:
        return ConnectType("int")
    if kind == Kind.LONG:
        return ConnectType("long")
    if kind == Kind.UNSIGNED_LONG:
        return _decimal(20, 0) if modes.bigint_unsigned_handling_mode == "precise" else ConnectType("long")
    if kind == Kind.DECIMAL:
        if modes.decimal_handling_mode == "double":
            return ConnectType("double")
        if modes.decimal_handling_mode == "string":
            return ConnectType("string")
        return _decimal(col.precision or 10, col.scale or 0)
    if kind == Kind.FLOAT:
        return ConnectType("float")
    if kind == Kind.DOUBLE:
        return ConnectType("double")
    if kind == Kind.STRING:
        return ConnectType("string")
    if kind == Kind.BYTES:
        return ConnectType("bytes")
    if kind == Kind.ENUM:
        return _named("string", "io.debezium.data.Enum", allowed=",".join(col.values))
    if kind == Kind.SET:
        return _named("string", "io.debezium.data.EnumSet", allowed=",".join(col.values))
    if kind == Kind.JSON:
        return _named("string", "io.debezium.data.Json")
    if kind == Kind.YEAR:
        return _named("int", "io.debezium.time.Year")
    if kind == Kind.TIMESTAMP:
        return _named("string", "io.debezium.time.ZonedTimestamp")
    if kind == Kind.BIT:
        if (col.precision or 1) == 1:
            return ConnectType("boolean")
        return _named("bytes", "io.debezium.data.Bits", length=str(col.precision))
    connect = modes.time_precision_mode == "connect"
    if kind == Kind.DATE:
        if connect:
            return ConnectType("int", "org.apache.kafka.connect.data.Date", 1,
                               logical=(("logicalType", "date"),))
        return _named("int", "io.debezium.time.Date")
    if kind == Kind.DATETIME:
        if connect:
            return ConnectType("long", "org.apache.kafka.connect.data.Timestamp", 1,
                               logical=(("logicalType", "timestamp-millis"),))
        if col.fsp <= 3:
            return _named("long", "io.debezium.time.Timestamp")
        return _named("long", "io.debezium.time.MicroTimestamp")
    if kind == Kind.TIME:
        if connect:
            return ConnectType("int", "org.apache.kafka.connect.data.Time", 1,
                               logical=(("logicalType", "time-millis"),))
        if modes.time_precision_mode == "adaptive" and col.fsp <= 3:
            return _named("int", "io.debezium.time.Time")
        return _named("long", "io.debezium.time.MicroTime")
    raise ValueError(f"no Connect type for {kind}")


NO_DEFAULT = object()


def render(ct: ConnectType, default: Any = NO_DEFAULT) -> Any:
    """The Avro type the Connect Avro converter writes for ``ct`` (a bare primitive name when there
    is no metadata to carry); ``default`` is the Connect default, in its Avro JSON form."""
    props: dict[str, Any] = {}
    if ct.version is not None:
        props["connect.version"] = ct.version
    if ct.parameters:
        props["connect.parameters"] = dict(ct.parameters)
    if default is not NO_DEFAULT and default is not None:
        props["connect.default"] = default
    if ct.name is not None:
        props["connect.name"] = ct.name
    if ct.connect_type is not None:
        props["connect.type"] = ct.connect_type
    props.update(ct.logical)
    return {"type": ct.avro, **props} if props else ct.avro


def column_field(col: Column, modes: TypeModes = DEFAULT_MODES, required: bool = False) -> dict[str, Any]:
    """The record field of ``col``: required when NOT NULL (or a key column), with the column's
    default as Debezium converts it."""
    from pssync.cdc.row_values import avro_default   # the values' module owns value conversion

    ct = connect_type(col, modes)
    default = avro_default(col, modes)
    if required or not col.nullable:
        if default is NO_DEFAULT or default is None:
            return {"name": col.name, "type": render(ct)}
        return {"name": col.name, "type": render(ct, default), "default": default}
    if default is NO_DEFAULT or default is None:
        return {"name": col.name, "type": ["null", render(ct)], "default": None}
    return {"name": col.name, "type": [render(ct, default), "null"], "default": default}


def avro_namespace(topic_prefix: str, database: str, table: str) -> str:
    return ".".join(_avro_name(part) for part in (topic_prefix, database, table))


def _avro_name(part: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", part)
    return name if re.match(r"[A-Za-z_]", name) else "_" + name


def source_schema() -> dict[str, Any]:
    """The ``source`` block of Debezium's MariaDB connector."""
    optional_long = ["null", "long"]
    return {
        "type": "record",
        "name": "Source",
        "namespace": f"io.debezium.connector.{CONNECTOR}",
        "fields": [
            {"name": "version", "type": "string"},
            {"name": "connector", "type": "string"},
            {"name": "name", "type": "string"},
            {"name": "ts_ms", "type": "long"},
            {"name": "snapshot", "type": [
                {"type": "string", "connect.version": 1,
                 "connect.parameters": {"allowed": "true,first,first_in_data_collection,"
                                                   "last_in_data_collection,last,false,incremental"},
                 "connect.default": "false", "connect.name": "io.debezium.data.Enum"}, "null"],
             "default": "false"},
            {"name": "db", "type": "string"},
            {"name": "sequence", "type": ["null", "string"], "default": None},
            {"name": "ts_us", "type": optional_long, "default": None},
            {"name": "ts_ns", "type": optional_long, "default": None},
            {"name": "table", "type": ["null", "string"], "default": None},
            {"name": "server_id", "type": "long"},
            {"name": "gtid", "type": ["null", "string"], "default": None},
            {"name": "file", "type": "string"},
            {"name": "pos", "type": "long"},
            {"name": "row", "type": "int"},
            {"name": "thread", "type": optional_long, "default": None},
            {"name": "query", "type": ["null", "string"], "default": None},
        ],
        "connect.version": 1,
        "connect.name": f"io.debezium.connector.{CONNECTOR}.Source",
    }


SOURCE_SCHEMA = source_schema()

TRANSACTION_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "block",
    "namespace": "event",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "total_order", "type": "long"},
        {"name": "data_collection_order", "type": "long"},
    ],
    "connect.version": 1,
    "connect.name": "event.block",
}


def key_schema(table: TableDef, topic_prefix: str, modes: TypeModes = DEFAULT_MODES) -> dict[str, Any]:
    if not table.primary_key:
        raise ValueError(f"{table.database}.{table.table} has no primary key; it cannot be keyed")
    namespace = avro_namespace(topic_prefix, table.database, table.table)
    return {
        "type": "record",
        "name": "Key",
        "namespace": namespace,
        "fields": [column_field(table.column(name), modes, required=True) for name in table.primary_key],
        "connect.name": f"{namespace}.Key",
    }


def value_schema(table: TableDef, topic_prefix: str, modes: TypeModes = DEFAULT_MODES) -> dict[str, Any]:
    namespace = avro_namespace(topic_prefix, table.database, table.table)
    # written as Java's Avro writes it (and so as the registry holds Debezium's): the row record
    # inherits the envelope's namespace and ``after`` names it relatively
    row = {
        "type": "record",
        "name": "Value",
        "fields": [column_field(col, modes) for col in table.columns],
        "connect.name": f"{namespace}.Value",
    }
    optional_long = ["null", "long"]
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": namespace,
        "fields": [
            {"name": "before", "type": ["null", row], "default": None},
            {"name": "after", "type": ["null", "Value"], "default": None},
            {"name": "source", "type": SOURCE_SCHEMA},
            {"name": "transaction", "type": ["null", TRANSACTION_SCHEMA], "default": None},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": optional_long, "default": None},
            {"name": "ts_us", "type": optional_long, "default": None},
            {"name": "ts_ns", "type": optional_long, "default": None},
        ],
        "connect.version": ENVELOPE_VERSION,
        "connect.name": f"{namespace}.Envelope",
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
