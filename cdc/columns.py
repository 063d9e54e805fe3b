"""One description of a table's columns, built either from the live catalogue
(information_schema, used by snapshots) or from a binlog TableMapEvent with full row metadata
(used while streaming, so each event is described by the table as it was when written)."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import Any

from pssync.cdc.errors import SourceMisconfigured

from pymysqlreplication.constants import FIELD_TYPE
from pssync.errors import PermanentError


class Kind(enum.Enum):
    SHORT = "short"        # TINYINT, TINYINT UNSIGNED, SMALLINT: Connect int16
    INT = "int"            # fits in a signed 32-bit integer
    LONG = "long"          # signed 64-bit
    UNSIGNED_LONG = "ulong"  # BIGINT UNSIGNED: exact as decimal(20,0)
    DECIMAL = "decimal"
    FLOAT = "float"
    DOUBLE = "double"
    STRING = "string"
    BYTES = "bytes"
    ENUM = "enum"
    SET = "set"
    JSON = "json"
    DATE = "date"
    DATETIME = "datetime"
    TIMESTAMP = "timestamp"
    TIME = "time"
    YEAR = "year"
    BIT = "bit"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    mysql_type: str
    precision: int | None = None
    scale: int | None = None
    fsp: int = 0
    values: tuple[str, ...] = ()
    primary_key: bool = False
    nullable: bool = True
    # the catalogue's COLUMN_DEFAULT as MariaDB writes it ('0', "'abc'", 'current_timestamp()');
    # None for no default and for DEFAULT NULL, which Debezium treats alike
    default: str | None = None
    # BINARY(n): n. The binlog drops a value's trailing zero bytes; SELECT and Debezium keep them
    fixed_length: int | None = None


@dataclass(frozen=True)
class TableDef:
    database: str
    table: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = field(default=())

    def __hash__(self) -> int:
        # computed once: the capture looks its codec up by TableDef for every row, and hashing
        # every column's fields each time cost more than encoding the row
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash((self.database, self.table, self.columns, self.primary_key))
            object.__setattr__(self, "_hash", value)
            return value

    def __getstate__(self) -> dict[str, Any]:
        # str hashes differ between processes: a pickled copy computes its own
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.database}.{self.table} has no column {name!r}")


class UnsupportedColumn(PermanentError):
    pass


_INT_KINDS = {
    # (data type, unsigned) -> kind; anything that can exceed int32 becomes long
    ("tinyint", False): Kind.SHORT, ("tinyint", True): Kind.SHORT,
    ("smallint", False): Kind.SHORT, ("smallint", True): Kind.INT,
    ("mediumint", False): Kind.INT, ("mediumint", True): Kind.INT,
    ("int", False): Kind.INT, ("int", True): Kind.LONG,
    ("bigint", False): Kind.LONG, ("bigint", True): Kind.UNSIGNED_LONG,
}

_STRING_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
_BYTES_TYPES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry"}


def column_from_catalogue(row: dict[str, Any], primary_key: bool) -> Column:
    """``row`` is an information_schema.COLUMNS row (COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
    NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, and IS_NULLABLE, COLUMN_DEFAULT when
    selected)."""
    column = _column_from_catalogue(row, primary_key)
    default = row.get("COLUMN_DEFAULT")
    return replace(column, nullable=row.get("IS_NULLABLE", "YES") == "YES",
                   default=None if default is None or default == "NULL" else str(default))


def _column_from_catalogue(row: dict[str, Any], primary_key: bool) -> Column:
    name = row["COLUMN_NAME"]
    data_type = row["DATA_TYPE"].lower()
    column_type = row["COLUMN_TYPE"].lower()
    unsigned = "unsigned" in column_type
    if (data_type, unsigned) in _INT_KINDS:
        kind = _INT_KINDS[(data_type, unsigned)]
        return Column(name, kind, column_type, primary_key=primary_key)
    if data_type == "decimal":
        return Column(name, Kind.DECIMAL, column_type, precision=int(row["NUMERIC_PRECISION"]),
                      scale=int(row["NUMERIC_SCALE"]), primary_key=primary_key)
    if data_type in ("float", "double"):
        return Column(name, Kind.FLOAT if data_type == "float" else Kind.DOUBLE, column_type,
                      primary_key=primary_key)
    if data_type in _STRING_TYPES:
        return Column(name, Kind.STRING, column_type, primary_key=primary_key)
    if data_type in _BYTES_TYPES:
        fixed = int(row["CHARACTER_OCTET_LENGTH"]) if data_type == "binary" and row.get("CHARACTER_OCTET_LENGTH") else None
        return Column(name, Kind.BYTES, column_type, primary_key=primary_key, fixed_length=fixed)
    if data_type in ("enum", "set"):
        values = tuple(_parse_enum_values(column_type))
        return Column(name, Kind.ENUM if data_type == "enum" else Kind.SET, column_type,
                      values=values, primary_key=primary_key)
    if data_type == "json":
        return Column(name, Kind.JSON, column_type, primary_key=primary_key)
    if data_type in ("date", "datetime", "timestamp", "time"):
        fsp = int(row.get("DATETIME_PRECISION") or 0)
        return Column(name, Kind(data_type), column_type, fsp=fsp, primary_key=primary_key)
    if data_type == "year":
        return Column(name, Kind.YEAR, column_type, primary_key=primary_key)
    if data_type == "bit":
        return Column(name, Kind.BIT, column_type, precision=int(row["NUMERIC_PRECISION"] or 1),
                      primary_key=primary_key)
    raise UnsupportedColumn(f"column {name} has unsupported type {column_type}")


def _parse_enum_values(column_type: str) -> list[str]:
    inner = column_type[column_type.index("(") + 1: column_type.rindex(")")]
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", inner)]


_BINLOG_INTS = {
    FIELD_TYPE.TINY: "tinyint", FIELD_TYPE.SHORT: "smallint", FIELD_TYPE.INT24: "mediumint",
    FIELD_TYPE.LONG: "int", FIELD_TYPE.LONGLONG: "bigint",
}
_BINLOG_TEMPORAL = {
    FIELD_TYPE.DATE: Kind.DATE, FIELD_TYPE.NEWDATE: Kind.DATE,
    FIELD_TYPE.DATETIME: Kind.DATETIME, FIELD_TYPE.DATETIME2: Kind.DATETIME,
    FIELD_TYPE.TIMESTAMP: Kind.TIMESTAMP, FIELD_TYPE.TIMESTAMP2: Kind.TIMESTAMP,
    FIELD_TYPE.TIME: Kind.TIME, FIELD_TYPE.TIME2: Kind.TIME,
}


def column_from_binlog(col: Any) -> Column:
    """``col`` is a pymysqlreplication Column from a TableMapEvent carrying full row metadata."""
    name = col.name
    if name is None:
        raise UnsupportedColumn("binlog table map has no column names (binlog_row_metadata is not FULL)")
    column = _column_from_binlog(col)
    return replace(column, nullable=bool(getattr(col, "nullable", True)))


def _column_from_binlog(col: Any) -> Column:
    name = col.name
    t = col.type
    pk = bool(col.is_primary)
    if t in _BINLOG_INTS:
        base = _BINLOG_INTS[t]
        unsigned = bool(col.unsigned)
        return Column(name, _INT_KINDS[(base, unsigned)], base + (" unsigned" if unsigned else ""),
                      primary_key=pk)
    if t in (FIELD_TYPE.NEWDECIMAL, FIELD_TYPE.DECIMAL):
        return Column(name, Kind.DECIMAL, f"decimal({col.precision},{col.decimals})",
                      precision=col.precision, scale=col.decimals, primary_key=pk)
    if t == FIELD_TYPE.FLOAT:
        return Column(name, Kind.FLOAT, "float", primary_key=pk)
    if t == FIELD_TYPE.DOUBLE:
        return Column(name, Kind.DOUBLE, "double", primary_key=pk)
    if t in _BINLOG_TEMPORAL:
        kind = _BINLOG_TEMPORAL[t]
        return Column(name, kind, kind.value, fsp=int(getattr(col, "fsp", 0) or 0), primary_key=pk)
    if t == FIELD_TYPE.YEAR:
        return Column(name, Kind.YEAR, "year", primary_key=pk)
    if t == FIELD_TYPE.ENUM:
        return Column(name, Kind.ENUM, "enum", values=tuple((col.enum_values or [""])[1:]),
                      primary_key=pk)
    if t == FIELD_TYPE.SET:
        return Column(name, Kind.SET, "set", values=tuple(col.set_values or ()), primary_key=pk)
    if t == FIELD_TYPE.JSON:
        return Column(name, Kind.JSON, "json", primary_key=pk)
    if t == FIELD_TYPE.BIT:
        return Column(name, Kind.BIT, "bit", precision=int(getattr(col, "bits", 1)), primary_key=pk)
    if t == FIELD_TYPE.GEOMETRY:
        return Column(name, Kind.BYTES, "geometry", primary_key=pk)
    if t in (FIELD_TYPE.VARCHAR, FIELD_TYPE.VAR_STRING, FIELD_TYPE.STRING, FIELD_TYPE.BLOB,
             FIELD_TYPE.TINY_BLOB, FIELD_TYPE.MEDIUM_BLOB, FIELD_TYPE.LONG_BLOB):
        binary = (col.character_set_name or "binary") == "binary"
        fixed = getattr(col, "max_length", None) if binary and t == FIELD_TYPE.STRING else None
        return Column(name, Kind.BYTES if binary else Kind.STRING,
                      "binary" if binary else "string", primary_key=pk, fixed_length=fixed)
    raise UnsupportedColumn(f"column {name} has unsupported binlog type {t}")


def table_from_binlog(database: str, table: str, columns: list[Any]) -> TableDef:
    cols = tuple(column_from_binlog(c) for c in columns)
    return TableDef(database, table, cols, tuple(c.name for c in cols if c.primary_key))


def with_key(table: TableDef, columns: tuple[str, ...] | None) -> TableDef:
    """The table keyed on ``columns`` (configured key columns, see capture.key_columns) instead of
    its primary key; unchanged when none are configured."""
    if not columns or columns == table.primary_key:
        return table
    missing = [c for c in columns if c not in {col.name for col in table.columns}]
    if missing:
        raise SourceMisconfigured(f"capture.key_columns for {table.table} names columns it does not "
                                  f"have: {', '.join(missing)}")
    return replace(table, primary_key=tuple(columns))


def with_defaults(table: TableDef, catalogue: TableDef | None) -> TableDef:
    """``table`` (as a binlog table map describes it: names, types, nullability) with the column
    defaults of ``catalogue`` (the table as information_schema has it now), for the columns that
    have the same name and type in both. The binlog carries no defaults; a column changed by a
    later ALTER keeps none until the capture reads events written after that ALTER."""
    if catalogue is None:
        return table
    known = {c.name: c for c in catalogue.columns}
    cols = []
    for col in table.columns:
        other = known.get(col.name)
        same = (other is not None and other.kind == col.kind and other.precision == col.precision
                and other.scale == col.scale and other.fsp == col.fsp and other.values == col.values)
        cols.append(replace(col, default=other.default) if same and other is not None else col)
    return replace(table, columns=tuple(cols))
