"""Speed-ups for python-mysql-replication, kept in one place and checked by tests.

A TableMapEvent precedes every rows event; PrestaShop writes rows one statement at a time, so
the library re-parses every column definition of ps_orders (46 columns) for each row. Equal
table-map bytes always parse to the same table, so ``CachingTableMapEvent`` parses each
distinct table map once and reuses the result. It is registered in the library's event map
(class-level, for the binlog event type TABLE_MAP_EVENT) and must be in the reader's only_events.

MySQL's packed DECIMAL is decoded with one read per value instead of one per digit group
(``read_new_decimal``), replacing the library's private RowsEvent method; TIME2 is decoded as the
server does (``read_time2``), which the library gets wrong for negative times with a fraction.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from pymysqlreplication import packet
from pymysqlreplication.constants import BINLOG
from pymysqlreplication.event import BinLogEvent
from pymysqlreplication.row_event import RowsEvent, TableMapEvent
from pymysqlreplication.table import Table

_CACHE_LIMIT = 1024
_SKIP = ("packet", "table_map", "_ctl_connection", "event_size", "timestamp")


class CachingTableMapEvent(TableMapEvent):
    _cache: dict[bytes, dict[str, Any]] = {}

    def __init__(self, from_packet: Any, event_size: int, table_map: dict, ctl_connection: Any,
                 **kwargs: Any) -> None:
        raw = from_packet.packet  # pymysql's packet, positioned at this event's body
        body = raw.get_bytes(raw._position, event_size)
        cached = self._cache.get(body)
        if cached is None:
            super().__init__(from_packet, event_size, table_map, ctl_connection, **kwargs)
            if self._processed:
                _mark_nullable(self)
                self.table_obj.__class__ = _ParsedTable
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[body] = {k: v for k, v in self.__dict__.items() if k not in _SKIP}
            return
        BinLogEvent.__init__(self, from_packet, event_size, table_map, ctl_connection, **kwargs)
        self.__dict__.update(cached)
        table_map[self.table_id] = self.table_obj
        from_packet.advance(event_size)


class _ParsedTable(Table):
    """A table map's Table whose ``data`` (a dict of its fields, which every rows event asks for
    its primary key) is built once: a parsed table map is never changed afterwards."""

    @property
    def data(self) -> dict[str, Any]:
        found = self.__dict__.get("_data")
        if found is None:
            found = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
            self.__dict__["_data"] = found
        return found


def _mark_nullable(event: TableMapEvent) -> None:
    """Each column's nullability, from the table map's null bitmap (bit i set: column i may be
    NULL), as ``column.nullable``: the library reads the bitmap but does not hand it on."""
    mask = event.null_bitmask
    for i, column in enumerate(event.columns):
        column.nullable = bool(mask[i // 8] & (1 << (i % 8)))


_GROUP_BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


@cache
def decimal_layout(precision: int, scale: int) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], int]:
    """(bytes, digits) of each integral and fractional group, and the total size."""
    full_int, left_int = divmod(precision - scale, 9)
    full_frac, left_frac = divmod(scale, 9)
    integral = (((_GROUP_BYTES[left_int], left_int),) if left_int else ()) + ((4, 9),) * full_int
    fraction = ((4, 9),) * full_frac + (((_GROUP_BYTES[left_frac], left_frac),) if left_frac else ())
    return integral, fraction, sum(n for n, _ in integral + fraction)


def decode_decimal(raw: bytes, precision: int, scale: int) -> Decimal:
    integral, fraction, _ = decimal_layout(precision, scale)
    data = bytearray(raw)
    negative = not data[0] & 0x80
    data[0] ^= 0x80
    if negative:
        data = bytearray(b ^ 0xFF for b in data)
    pos = 0
    whole = 0
    for size, digits in integral:
        whole = whole * 10 ** digits + int.from_bytes(data[pos:pos + size], "big")
        pos += size
    frac = 0
    for size, digits in fraction:
        frac = frac * 10 ** digits + int.from_bytes(data[pos:pos + size], "big")
        pos += size
    text = f"{'-' if negative else ''}{whole}.{frac:0{scale}d}" if scale else f"{'-' if negative else ''}{whole}"
    return Decimal(text)


def read_new_decimal(self: Any, column: Any) -> Decimal:
    size = decimal_layout(column.precision, column.decimals)[2]
    return decode_decimal(self.packet.read(size), column.precision, column.decimals)


_original_decimal = RowsEvent._RowsEvent__read_new_decimal  # type: ignore[attr-defined]


_TIME2_FRACTION_BYTES = (0, 1, 1, 2, 2, 3, 3)
_TIME2_FRACTION_SCALE = (1, 10000, 10000, 100, 100, 1, 1)


def decode_time2(raw: bytes, fsp: int) -> dt.timedelta:
    """MariaDB/MySQL's TIME2 (3 bytes of sign, hours, minutes, seconds, then 0-3 bytes of fraction)
    as one signed value, the way the server unpacks it. The library complements the integral part
    alone, so a negative time with a fraction comes out wrong ('-00:00:00.000001' as -0.999999 s)."""
    size = _TIME2_FRACTION_BYTES[fsp]
    intpart = int.from_bytes(raw[:3], "big") - 0x800000
    frac = int.from_bytes(raw[3:3 + size], "big")
    if size in (1, 2) and intpart < 0 and frac:
        intpart += 1
        frac -= 1 << (8 * size)
    packed = (intpart << 24) + frac * _TIME2_FRACTION_SCALE[fsp]
    sign = -1 if packed < 0 else 1
    packed = abs(packed)
    hms, micros = packed >> 24, packed & 0xFFFFFF
    return sign * dt.timedelta(hours=(hms >> 12) & 0x3FF, minutes=(hms >> 6) & 0x3F,
                               seconds=hms & 0x3F, microseconds=micros)


def read_time2(self: RowsEvent, column: Any) -> dt.timedelta:
    fsp = column.fsp or 0
    return decode_time2(self.packet.read(3 + _TIME2_FRACTION_BYTES[fsp]), fsp)


def install() -> type[TableMapEvent]:
    """Register the speed-ups and fixes; returns the table-map class to put in ``only_events``."""
    event_map = packet.BinLogPacketWrapper._BinLogPacketWrapper__event_map  # type: ignore[attr-defined]
    event_map[BINLOG.TABLE_MAP_EVENT] = CachingTableMapEvent
    RowsEvent._RowsEvent__read_new_decimal = read_new_decimal  # type: ignore[attr-defined]
    RowsEvent._RowsEvent__read_time2 = read_time2  # type: ignore[attr-defined]
    return CachingTableMapEvent
