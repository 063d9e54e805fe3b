"""Turn a row as read from MySQL (binlog or SELECT) into values ready for the Avro schema.

Both readers disagree on small things (zero dates, SET, JSON, BIT, TIMESTAMP zero); this module
is the one place that makes them agree. Converters are built once per TableDef.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pssync.cdc.columns import Column, Kind, TableDef
from pssync.errors import PermanentError

Converter = Callable[[Any], Any]
Row = dict[str, Any]

_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
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


def _temporal(col: Column, zone: dt.tzinfo) -> Converter:
    unit = _MILLI if col.fsp <= 3 else _MICRO
    utc = zone is dt.timezone.utc or getattr(zone, "key", None) == "UTC"
    is_timestamp = col.kind == Kind.TIMESTAMP

    def convert(value: Any) -> Any:
        if value is None or _zero_date(value):
            return None
        if isinstance(value, (str, bytes)):
            value = dt.datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
        if is_timestamp:
            # TIMESTAMP is stored as UTC epoch; readers hand it back naive UTC. 0 is the zero date.
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            if value == _EPOCH_UTC:
                return None
            return (value - _EPOCH_UTC) // unit
        if value.tzinfo is not None:
            return (value - _EPOCH_UTC) // unit
        if utc:
            return (value - _EPOCH_NAIVE) // unit
        return (value.replace(tzinfo=zone) - _EPOCH_UTC) // unit

    return convert


def _date(value: Any) -> Any:
    if value is None or _zero_date(value):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, (str, bytes)):
        value = dt.date.fromisoformat(value.decode() if isinstance(value, bytes) else value)
    return (value - _EPOCH_DATE).days


def _time(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return value // _MICRO


def _string(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    return value


def _bytes(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


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
        return number.to_bytes(((col.precision or 1) + 7) // 8, "big")

    return convert


_EXACT = Context(prec=80)


def _decimal(scale: int) -> Converter:
    """To the Avro decimal's own bytes (unscaled two's complement): fastavro accepts them as
    they are, and this is several times cheaper than letting it encode a Decimal."""

    def convert(value: Any) -> Any:
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


def converter_for(col: Column, zone: dt.tzinfo) -> Converter | None:
    """None means the value passes through unchanged (the hot path for ints and strings)."""
    kind = col.kind
    if kind in (Kind.INT, Kind.LONG, Kind.FLOAT, Kind.DOUBLE, Kind.ENUM):
        return None
    if kind == Kind.YEAR:
        return _year
    if kind == Kind.STRING:
        return _string
    if kind == Kind.BYTES:
        return _bytes
    if kind == Kind.DECIMAL:
        return _decimal(col.scale or 0)
    if kind == Kind.UNSIGNED_LONG:
        return _decimal(0)
    if kind in (Kind.DATETIME, Kind.TIMESTAMP):
        return _temporal(col, zone)
    if kind == Kind.DATE:
        return _date
    if kind == Kind.TIME:
        return _time
    if kind == Kind.SET:
        return _set(col)
    if kind == Kind.JSON:
        return _json_text
    if kind == Kind.BIT:
        return _bit(col)
    raise ValueError(f"no converter for {kind}")


class RowConverter:
    def __init__(self, table: TableDef, zone_name: str = "UTC") -> None:
        zone: dt.tzinfo = dt.timezone.utc if zone_name == "UTC" else ZoneInfo(zone_name)
        self.table = table
        self.names = tuple(c.name for c in table.columns)
        self._converters = [(c.name, fn) for c in table.columns
                            if (fn := converter_for(c, zone)) is not None]

    def __call__(self, row: Row) -> Row:
        out = {name: row.get(name) for name in self.names}
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
