"""Turn a row as read from MySQL (binlog or SELECT) into values ready for the Avro schema.

Both readers disagree on small things (zero dates, SET, JSON, BIT, TIMESTAMP zero); this module
is the one place that makes them agree. Converters are built once per TableDef.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Context, Decimal
import re
from typing import Any

from pssync.cdc.avro_schema import DEFAULT_MODES, NO_DEFAULT, TypeModes
from pssync.cdc.columns import Column, Kind, TableDef
from pssync.errors import PermanentError

Converter = Callable[[Any], Any]
Row = dict[str, Any]

_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)
_MICRO = dt.timedelta(microseconds=1)
_MILLI = dt.timedelta(milliseconds=1)


class BadValue(PermanentError, ValueError):
    """A column value that cannot be represented; the message names the column and value, and
    ``column`` / ``value`` hold them (for the dead letter's headers)."""

    def __init__(self, message: str, column: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.column = column
        self.value = value


def _zero_date(value: Any) -> bool:
    """A zero date, or one with a zero part ('1985-06-00', '2024-00-00', allowed without
    NO_ZERO_IN_DATE): pymysql hands them back as the raw string, and the binlog reader as None,
    so both readers give the same null."""
    return isinstance(value, (str, bytes)) and (
        value[:4] in ("0000", b"0000") or value[5:7] in ("00", b"00") or value[8:10] in ("00", b"00"))


def _year(value: Any) -> Any:
    # YEAR 0000 is one byte 0 in the binlog, which the binlog reader hands back as 1900 (a year
    # YEAR cannot hold: its range is 1901-2155 and 0000); SELECT gives 0
    return 0 if value == 1900 else value


def _datetime(col: Column, modes: TypeModes) -> Converter:
    """DATETIME as Debezium has it: the wall-clock value read as if it were UTC (no zone, so a time
    in a daylight-saving gap stays as written), in milliseconds (fsp <= 3 or connect mode) or
    microseconds. The shop's zone is applied by readers (:mod:`pssync.schemas.change_events`)."""
    unit = _MILLI if col.fsp <= 3 or modes.time_precision_mode == "connect" else _MICRO

    def convert(value: Any) -> Any:
        if value is None or _zero_date(value):
            return None
        if isinstance(value, (str, bytes)):
            value = dt.datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return (value - _EPOCH_NAIVE) // unit

    return convert


def _zoned(col: Column) -> Converter:
    """TIMESTAMP as Debezium's ZonedTimestamp: ISO-8601 in UTC, with as many fraction digits as the
    column keeps. Readers hand TIMESTAMP back naive in UTC; its zero value (0) is epoch."""
    digits = col.fsp

    def convert(value: Any) -> Any:
        if value is None or _zero_date(value):
            return None
        if isinstance(value, (str, bytes)):
            value = dt.datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if value == _EPOCH_NAIVE:
            return None     # TIMESTAMP's zero: 0 in the binlog, '0000-00-00 00:00:00' to SELECT
        return zoned_text(value, digits)

    return convert


def zoned_text(value: dt.datetime, digits: int) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{value.microsecond:06d}"[:digits]
    return text + "Z"


def _date(value: Any) -> Any:
    if value is None or _zero_date(value):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, (str, bytes)):
        value = dt.date.fromisoformat(value.decode() if isinstance(value, bytes) else value)
    return (value - _EPOCH_DATE).days


def _time(col: Column, modes: TypeModes) -> Converter:
    millis = modes.time_precision_mode == "connect" or (
        modes.time_precision_mode == "adaptive" and col.fsp <= 3)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.time):
            micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
        else:
            micros = value // _MICRO
        return micros // 1000 if millis else micros

    return convert


def _string(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    return value


def _bytes(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _padded(length: int) -> Converter:
    def convert(value: Any) -> Any:
        value = _bytes(value)
        return value.ljust(length, b"\x00") if value is not None else None
    return convert


def _set(col: Column) -> Converter:
    order = {v: i for i, v in enumerate(col.values)}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return ",".join(sorted(value, key=lambda v: order.get(v, len(order))))

    return convert


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return json.dumps(_decode_json_bytes(value), separators=(",", ":"), default=str)


def _decode_json_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {_decode_json_bytes(k): _decode_json_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_json_bytes(v) for v in value]
    return value


def _bit(col: Column) -> Converter:
    single = (col.precision or 1) == 1

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):  # binlog reader: '0101...'
            number = int(value, 2)
        elif isinstance(value, (bytes, bytearray)):
            number = int.from_bytes(value, "big")
        else:
            number = int(value)
        if single:
            return bool(number)
        # io.debezium.data.Bits: the bits little-endian, as Java's BitSet.toByteArray() (b'1010101010' -> aa 02)
        return number.to_bytes(((col.precision or 1) + 7) // 8, "little")

    return convert


_EXACT = Context(prec=80)
_DECIMAL_MEMO = 4096


def _decimal(scale: int) -> Converter:
    """To the Avro decimal's own bytes (unscaled two's complement): fastavro accepts them as
    they are, and this is several times cheaper than letting it encode a Decimal."""

    memo: dict[Any, bytes] = {}

    def convert(value: Any) -> Any:
        # equal numbers have one encoding at a given scale (Decimal('1.5') == Decimal('1.50') == 1.5,
        # and hash alike), and shop amounts repeat: most values are found here
        try:
            out = memo.get(value)
        except TypeError:           # unhashable: a signalling NaN, which fails below anyway
            return _unscaled_bytes(value)
        if out is None and value is not None:
            out = _unscaled_bytes(value)
            if len(memo) >= _DECIMAL_MEMO:
                memo.clear()
            memo[value] = out
        return out

    def _unscaled_bytes(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int):
            unscaled = value * 10 ** scale
        else:
            if not isinstance(value, Decimal):
                value = Decimal(str(value))
            scaled = value.scaleb(scale, _EXACT)
            if scaled != scaled.to_integral_value(context=_EXACT):
                raise ValueError(f"{value} has more than {scale} decimal places")
            unscaled = int(scaled)
        return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)

    return convert


def _decimal_text(scale: int) -> Converter:
    step = Decimal(1).scaleb(-scale)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        return f"{Decimal(value).quantize(step, context=_EXACT):f}"

    return convert


def _decimal_double(value: Any) -> Any:
    return None if value is None else float(value)


def _signed_long(value: Any) -> Any:
    """BIGINT UNSIGNED in bigint.unsigned.handling.mode=long: the 64 bits as a signed long, as Java
    holds them (values above 2^63-1 come out negative)."""
    if value is None:
        return None
    value = int(value)
    return value - (1 << 64) if value >= 1 << 63 else value


def converter_for(col: Column, modes: TypeModes = DEFAULT_MODES) -> Converter | None:
    """None means the value passes through unchanged (the hot path for ints and strings)."""
    kind = col.kind
    if kind in (Kind.SHORT, Kind.INT, Kind.LONG, Kind.FLOAT, Kind.DOUBLE, Kind.ENUM):
        return None
    if kind == Kind.YEAR:
        return _year
    if kind == Kind.STRING:
        return _string
    if kind == Kind.BYTES:
        return _bytes if not col.fixed_length else _padded(col.fixed_length)
    if kind == Kind.DECIMAL:
        if modes.decimal_handling_mode == "double":
            return _decimal_double
        if modes.decimal_handling_mode == "string":
            return _decimal_text(col.scale or 0)
        return _decimal(col.scale or 0)
    if kind == Kind.UNSIGNED_LONG:
        return _decimal(0) if modes.bigint_unsigned_handling_mode == "precise" else _signed_long
    if kind == Kind.DATETIME:
        return _datetime(col, modes)
    if kind == Kind.TIMESTAMP:
        return _zoned(col)
    if kind == Kind.DATE:
        return _date
    if kind == Kind.TIME:
        return _time(col, modes)
    if kind == Kind.SET:
        return _set(col)
    if kind == Kind.JSON:
        return _json_text
    if kind == Kind.BIT:
        return _bit(col)
    raise ValueError(f"no converter for {kind}")


_TEMPORAL = (Kind.DATE, Kind.DATETIME, Kind.TIMESTAMP)
_EPOCH_DEFAULT = re.compile(r"^(\d{4}-\d{2}-00|\d{4}-00-\d{2}|0000-\d{2}-\d{2})( 00:00:00(\.0+)?)?$|^0$")
_NOW = re.compile(r"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", re.I)


def _default_literal(col: Column, modes: TypeModes = DEFAULT_MODES) -> Any:
    """The column's default as a reader would hand its value back, or NO_DEFAULT. MariaDB's
    information_schema quotes string literals and writes numbers and expressions bare."""
    text = col.default
    if text is None:
        return NO_DEFAULT
    quoted = len(text) >= 2 and text[0] == text[-1] == "'"
    literal = text[1:-1].replace("''", "'").replace("\\\\", "\\") if quoted else text
    kind = col.kind
    if kind in _TEMPORAL:
        if _NOW.match(literal) or _EPOCH_DEFAULT.match(literal):
            # Debezium reads CURRENT_TIMESTAMP and zero dates as the epoch; a nullable column's
            # epoch default is no default at all
            return NO_DEFAULT if col.nullable else _EPOCH
        return literal
    if not quoted and _NOW.match(literal):
        return NO_DEFAULT
    if kind == Kind.UNSIGNED_LONG and modes.bigint_unsigned_handling_mode == "long":
        return min(int(Decimal(literal)), (1 << 63) - 1)    # Debezium's default saturates, values wrap
    if kind in (Kind.SHORT, Kind.INT, Kind.LONG, Kind.UNSIGNED_LONG, Kind.YEAR):
        return int(Decimal(literal))
    if kind in (Kind.FLOAT, Kind.DOUBLE):
        return float(literal)
    if kind == Kind.DECIMAL:
        return Decimal(literal)
    if kind == Kind.BIT:
        if literal.lower().startswith("b'"):
            literal = literal[2:-1]
        return literal if (col.precision or 1) > 1 else int(literal or "0")
    if kind == Kind.TIME:
        return _parse_time(literal)
    return literal


_EPOCH = object()     # a temporal default Debezium reads as the epoch


def _epoch_value(col: Column) -> Any:
    """The epoch in the column's encoding: what a NOT NULL column holds for a zero date."""
    return zoned_text(_EPOCH_NAIVE, col.fsp) if col.kind == Kind.TIMESTAMP else 0


def _parse_time(text: str) -> dt.timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, minutes, seconds = (text.lstrip("-").split(":") + ["0", "0"])[:3]
    return sign * dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def avro_default(col: Column, modes: TypeModes = DEFAULT_MODES) -> Any:
    """The column's default as Debezium puts it in the schema (Avro JSON form: bytes as ISO-8859-1
    text), None for a default of NULL, or NO_DEFAULT."""
    literal = _default_literal(col, modes)
    if literal is NO_DEFAULT:
        return NO_DEFAULT
    if literal is _EPOCH:
        return _epoch_value(col)
    fn = converter_for(col, modes)
    try:
        value = fn(literal) if fn is not None else literal
    except (ValueError, TypeError, ArithmeticError):
        return NO_DEFAULT           # a default Debezium could not parse either: it leaves none
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return value


def _not_null(fn: Converter | None, fallback: Any) -> Converter:
    """A NOT NULL column's value is never null: a zero date (which readers hand back as null)
    becomes the column's default, else the type's zero (epoch), as Debezium does."""
    def convert(value: Any) -> Any:
        out = fn(value) if fn is not None else value
        return fallback if out is None else out
    return convert


class RowConverter:
    def __init__(self, table: TableDef, modes: TypeModes = DEFAULT_MODES) -> None:
        self.table = table
        self.names = tuple(c.name for c in table.columns)
        self._name_set = frozenset(self.names)
        converters = []
        for col in table.columns:
            fn = converter_for(col, modes)
            if not col.nullable and col.kind in _TEMPORAL:
                fallback = avro_default(col, modes)
                fn = _not_null(fn, _epoch_value(col) if fallback is NO_DEFAULT else fallback)
            if fn is not None:
                converters.append((col.name, fn))
        self._converters = converters

    def __call__(self, row: Row) -> Row:
        # a binlog row has exactly the table's columns: copied whole, not column by column
        out = dict(row) if row.keys() == self._name_set else {name: row.get(name) for name in self.names}
        for name, fn in self._converters:
            try:
                out[name] = fn(out[name])
            except (ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
                raise BadValue(
                    f"{self.table.database}.{self.table.table}.{name}: cannot convert "
                    f"{out[name]!r}: {exc}", name, out[name]) from exc
        return out

    def key(self, row: Row) -> Row:
        return {name: row[name] for name in self.table.primary_key}
