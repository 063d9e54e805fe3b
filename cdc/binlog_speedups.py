"""Speed-ups for python-mysql-replication, kept in one place and checked by tests.

A TableMapEvent precedes every rows event; PrestaShop writes rows one statement at a time, so
the library re-parses every column definition of ps_orders (46 columns) for each row. Equal
table-map bytes always parse to the same table, so ``CachingTableMapEvent`` parses each
distinct table map once and reuses the result. It is registered in the library's event map
(class-level, for the binlog event type TABLE_MAP_EVENT) and must be in the reader's only_events.

MySQL's packed DECIMAL is decoded with one read per value instead of one per digit group
(``read_new_decimal``), replacing the library's private RowsEvent method.
"""
from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from pymysqlreplication import packet
from pymysqlreplication.constants import BINLOG
from pymysqlreplication.event import BinLogEvent
from pymysqlreplication.row_event import RowsEvent, TableMapEvent

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
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[body] = {k: v for k, v in self.__dict__.items() if k not in _SKIP}
            return
        BinLogEvent.__init__(self, from_packet, event_size, table_map, ctl_connection, **kwargs)
        self.__dict__.update(cached)
        table_map[self.table_id] = self.table_obj
        from_packet.advance(event_size)


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


def install() -> type[TableMapEvent]:
    """Register both speed-ups; returns the table-map class to put in ``only_events``."""
    event_map = packet.BinLogPacketWrapper._BinLogPacketWrapper__event_map  # type: ignore[attr-defined]
    event_map[BINLOG.TABLE_MAP_EVENT] = CachingTableMapEvent
    RowsEvent._RowsEvent__read_new_decimal = read_new_decimal  # type: ignore[attr-defined]
    return CachingTableMapEvent
