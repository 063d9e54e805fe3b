"""A compiled row decoder for binlog rows events (Write/Update/Delete), replacing
python-mysql-replication's column-by-column reader.

The library decodes every value through a chain of method calls (``__read_values_name`` compares
the column type against a dozen constants, then reads through ``BinLogPacketWrapper.read``, which
slices pymysql's packet one value at a time). For a table map and a columns-present bitmap the work
is always the same, so ``plan_for`` writes, once, a Python function that decodes one row image
straight from the event's bytes: fixed offsets inside runs of fixed-width columns, one
``int.from_bytes`` for the null bitmap, each type's decoding inlined, the values gathered in one
dict display. Every value is exactly what the library returns (same Python type and value; the
DECIMAL and TIME2 readers are those of ``binlog_speedups``); ``none_sources`` is not produced.

A table with a column type the plan does not know (JSON, GEOMETRY, pre-5.6 temporal types) keeps
the library's reader, as does a partial-update (MySQL JSON diff) event.
"""
from __future__ import annotations

import codecs
import datetime as dt
import struct
from decimal import Decimal
from typing import Any

from pymysqlreplication.constants import BINLOG, FIELD_TYPE
from pymysqlreplication.row_event import DeleteRowsEvent, RowsEvent, UpdateRowsEvent, WriteRowsEvent

from pssync.cdc.binlog_speedups import decimal_layout, decode_time2
from pssync.errors import PssyncError

_TIME2_FRACTION_BYTES = (0, 1, 1, 2, 2, 3, 3)
_FSP_BYTES = (0, 1, 1, 2, 2, 3, 3)
_DECIMAL_CACHE_LIMIT = 4096
_original_fetch_rows = RowsEvent._fetch_rows

# integer types read by one struct code: (signed, unsigned, size)
_INT_CODES = {
    FIELD_TYPE.TINY: ("b", "B", 1),
    FIELD_TYPE.SHORT: ("h", "H", 2),
    FIELD_TYPE.LONG: ("i", "I", 4),
    FIELD_TYPE.LONGLONG: ("q", "Q", 8),
}


class Unsupported(PssyncError):
    """A column type the compiled plan does not decode: the library's reader is used."""


class _Writer:
    """Source of one row-image function, and the constants it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}

    def const(self, value: Any, stem: str = "k") -> str:
        name = f"_{stem}{len(self.consts)}"
        self.consts[name] = value
        return name

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


def _fixed_size(column: Any) -> int | None:
    """Bytes a value of this column always takes, or None when it is length-prefixed."""
    t = column.type
    if t in _INT_CODES:
        return _INT_CODES[t][2]
    if t == FIELD_TYPE.INT24 or t == FIELD_TYPE.DATE:
        return 3
    if t == FIELD_TYPE.FLOAT:
        return 4
    if t == FIELD_TYPE.DOUBLE:
        return 8
    if t == FIELD_TYPE.YEAR:
        return 1
    if t == FIELD_TYPE.NEWDECIMAL:
        return decimal_layout(column.precision, column.decimals)[2]
    if t == FIELD_TYPE.DATETIME2:
        return 5 + _FSP_BYTES[column.fsp or 0]
    if t == FIELD_TYPE.TIMESTAMP2:
        return 4 + _FSP_BYTES[column.fsp or 0]
    if t == FIELD_TYPE.TIME2:
        return 3 + _TIME2_FRACTION_BYTES[column.fsp or 0]
    if t == FIELD_TYPE.ENUM or t == FIELD_TYPE.SET:
        return column.size
    if t == FIELD_TYPE.BIT:
        return column.bytes
    if t in (FIELD_TYPE.VARCHAR, FIELD_TYPE.STRING, FIELD_TYPE.BLOB):
        return None
    raise Unsupported(f"column type {t}")


def _encoding(column: Any) -> str | None:
    """The codec the library decodes this text column with; None: it hands the bytes on."""
    if column.character_set_name is None:
        return "utf-8"
    encoding = RowsEvent.charset_to_encoding(column.character_set_name)
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None
    return encoding


def _fsp_micro(w: _Writer, ind: int, v: str, at: str, fsp: int) -> None:
    """``micro`` from the fraction bytes at ``at`` the way the library reads them (a signed
    big-endian number; odd precisions store one more digit)."""
    size = _FSP_BYTES[fsp]
    if not size:
        w.emit(ind, "micro = 0")
        return
    w.emit(ind, f"micro = int.from_bytes(data[{at}:{at} + {size}], 'big', signed=True)")
    if fsp % 2:
        w.emit(ind, "micro = int(micro / 10)")
    if fsp != 6:
        w.emit(ind, f"micro *= {10 ** (6 - fsp)}")


def _decode_fixed(w: _Writer, ind: int, v: str, column: Any, at: str, ignore_errors: bool) -> None:
    """Statements setting ``v`` from the fixed-width value starting at offset expression ``at``."""
    t = column.type
    if t in _INT_CODES:
        signed, unsigned, size = _INT_CODES[t]
        code = unsigned if column.unsigned else signed
        if size == 1 and code == "B":
            w.emit(ind, f"{v} = data[{at}]")
        else:
            s = w.const(struct.Struct("<" + code).unpack_from, "u")
            w.emit(ind, f"{v} = {s}(data, {at})[0]")
    elif t == FIELD_TYPE.INT24:
        w.emit(ind, f"{v} = int.from_bytes(data[{at}:{at} + 3], 'little', signed={not column.unsigned})")
    elif t == FIELD_TYPE.FLOAT:
        s = w.const(struct.Struct("<f").unpack_from, "u")
        w.emit(ind, f"{v} = {s}(data, {at})[0]")
    elif t == FIELD_TYPE.DOUBLE:
        s = w.const(struct.Struct("<d").unpack_from, "u")
        w.emit(ind, f"{v} = {s}(data, {at})[0]")
    elif t == FIELD_TYPE.YEAR:
        w.emit(ind, f"{v} = data[{at}] + 1900")
    elif t == FIELD_TYPE.NEWDECIMAL:
        size = decimal_layout(column.precision, column.decimals)[2]
        cache = w.const({}, "dc")
        fn = w.const(_decimal_decoder(column.precision, column.decimals), "dd")
        w.emit(ind, f"raw = data[{at}:{at} + {size}]")
        w.emit(ind, f"{v} = {cache}.get(raw)")
        w.emit(ind, f"if {v} is None:")
        w.emit(ind + 1, f"{v} = {fn}(raw, {cache})")
    elif t == FIELD_TYPE.DATE:
        date = w.const(dt.date, "date")
        w.emit(ind, f"x = int.from_bytes(data[{at}:{at} + 3], 'little')")
        w.emit(ind, "if x & 0x1F and x & 0x1E0 and x >> 9:")
        w.emit(ind + 1, f"{v} = {date}(x >> 9 & 0x7FFF, x >> 5 & 0xF, x & 0x1F)")
        w.emit(ind, "else:")
        w.emit(ind + 1, f"{v} = None")
    elif t == FIELD_TYPE.DATETIME2:
        fsp = column.fsp or 0
        datetime = w.const(dt.datetime, "datetime")
        w.emit(ind, f"x = int.from_bytes(data[{at}:{at} + 5], 'big')")
        w.emit(ind, "ym = x >> 22 & 0x1FFFF")
        w.emit(ind, "if ym < 13 or not ym % 13 or not x & 0x3E0000:")
        w.emit(ind + 1, f"{v} = None")
        w.emit(ind, "else:")
        _fsp_micro(w, ind + 1, v, f"{at} + 5", fsp)
        w.emit(ind + 1, "try:")
        w.emit(ind + 2, f"{v} = {datetime}(int(ym / 13), ym % 13, x >> 17 & 0x1F, x >> 12 & 0x1F, "
                        "x >> 6 & 0x3F, x & 0x3F, micro if micro > 0 else 0)")
        w.emit(ind + 1, "except ValueError:")
        w.emit(ind + 2, f"{v} = None")
    elif t == FIELD_TYPE.TIMESTAMP2:
        fsp = column.fsp or 0
        utc = w.const(dt.datetime.utcfromtimestamp, "utc")
        w.emit(ind, f"{v} = {utc}(int.from_bytes(data[{at}:{at} + 4], 'big', signed=True))")
        if _FSP_BYTES[fsp]:
            _fsp_micro(w, ind, v, f"{at} + 4", fsp)
            w.emit(ind, "if micro > 0:")
            w.emit(ind + 1, f"{v} = {v}.replace(microsecond=micro)")
    elif t == FIELD_TYPE.TIME2:
        fsp = column.fsp or 0
        fn = w.const(decode_time2, "t2")
        w.emit(ind, f"{v} = {fn}(data[{at}:{at} + {3 + _TIME2_FRACTION_BYTES[fsp]}], {fsp})")
    elif t == FIELD_TYPE.ENUM:
        w.emit(ind, f"x = int.from_bytes(data[{at}:{at} + {column.size}], 'little')")
        if column.enum_values:
            values = w.const(column.enum_values, "ev")
            w.emit(ind, f"{v} = {values}[x]")
        else:
            w.emit(ind, f"{v} = None")
    elif t == FIELD_TYPE.SET:
        if column.set_values:
            values = w.const(tuple(enumerate(column.set_values)), "sv")
            w.emit(ind, f"x = int.from_bytes(data[{at}:{at} + {column.size}], 'little')")
            w.emit(ind, f"{v} = {{val for idx, val in {values} if x & (1 << idx)}} or None")
        else:
            w.emit(ind, f"{v} = None")
    elif t == FIELD_TYPE.BIT:
        bits = column.bits
        w.emit(ind, f"{v} = format(int.from_bytes(data[{at}:{at} + {column.bytes}], 'big') & {(1 << bits) - 1}, "
                    f"'0{bits}b')")
    else:  # pragma: no cover - _fixed_size refused it already
        raise Unsupported(f"column type {t}")


def _decode_variable(w: _Writer, ind: int, v: str, column: Any, ignore_errors: bool) -> None:
    """Statements setting ``v`` from the length-prefixed value at ``p``, advancing ``p``."""
    t = column.type
    if t == FIELD_TYPE.BLOB:
        prefix = column.length_size
    else:
        prefix = 2 if column.max_length > 255 else 1
    if prefix == 1:
        w.emit(ind, "n = data[p] + 1")
    elif prefix == 2:
        w.emit(ind, "n = (data[p] | data[p + 1] << 8) + 2")
    else:
        w.emit(ind, f"n = int.from_bytes(data[p:p + {prefix}], 'little') + {prefix}")
    encoding = _encoding(column)
    if encoding is None:
        # the library's decode fails on the unknown codec and hands on the bytes, except for an
        # empty value: CPython decodes b'' to '' without looking the codec up
        w.emit(ind, f"{v} = data[p + {prefix}:p + n] if n > {prefix} else ''")
    else:
        errors = "ignore" if ignore_errors else "strict"
        w.emit(ind, f"{v} = data[p + {prefix}:p + n].decode({encoding!r}, {errors!r})")
    w.emit(ind, "p += n")


def _decimal_decoder(precision: int, scale: int) -> Any:
    """A function (raw bytes, cache) -> Decimal for DECIMAL(precision, scale), equal to the
    library's reader (and ``binlog_speedups.decode_decimal``): the packed groups are cut out of
    one big-endian integer by constant shifts."""
    integral, fraction, size = decimal_layout(precision, scale)
    top = 1 << (8 * size - 1)
    parts = []
    shift = 8 * size
    for n, _ in integral + fraction:
        shift -= 8 * n
        parts.append(f"(x >> {shift} & {(1 << (8 * n)) - 1})" if shift else f"(x & {(1 << (8 * n)) - 1})")

    def number(groups: tuple, exprs: list[str]) -> str:
        text = "0"
        for (_, digits), expr in zip(groups, exprs):
            text = f"{expr}" if text == "0" else f"({text}) * {10 ** digits} + {expr}"
        return text

    whole = number(integral, parts[:len(integral)])
    frac = number(fraction, parts[len(integral):])
    text = f"f'{{s}}{{{whole}}}.{{{frac}:0{scale}d}}'" if scale else f"f'{{s}}{{{whole}}}'"
    src = (f"def decode(raw, cache):\n"
           f"    x = int.from_bytes(raw, 'big')\n"
           f"    if x & {top}:\n"
           f"        x ^= {top}\n"
           f"        s = ''\n"
           f"    else:\n"
           f"        x ^= {top - 1}\n"
           f"        s = '-'\n"
           f"    value = Decimal({text})\n"
           f"    if len(cache) >= {_DECIMAL_CACHE_LIMIT}:\n"
           f"        cache.clear()\n"
           f"    cache[raw] = value\n"
           f"    return value\n")
    namespace: dict[str, Any] = {"Decimal": Decimal}
    exec(compile(src, f"<pssync decimal({precision},{scale})>", "exec"), namespace)  # noqa: S102
    return namespace["decode"]


def _null_bytes(present: bytes) -> int:
    """Size of a row image's null bitmap: one bit per bit set in the columns-present bitmap."""
    return (sum(bin(b).count("1") for b in present) + 7) // 8


def _not_null_mask(columns: list[Any], present: bytes) -> int:
    """Null-bitmap bits of the present NOT NULL columns: when one is set, the careful decoder runs."""
    mask, bit = 0, 0
    for i, column in enumerate(columns):
        if present[i // 8] >> (i % 8) & 1:
            if not getattr(column, "nullable", True):
                mask |= 1 << bit
            bit += 1
    return mask


def _struct_code(column: Any) -> str | None:
    """The struct code of a fixed-width number read as is (YEAR: plus 1900 afterwards)."""
    t = column.type
    if t in _INT_CODES:
        signed, unsigned, _ = _INT_CODES[t]
        return unsigned if column.unsigned else signed
    return {FIELD_TYPE.FLOAT: "f", FIELD_TYPE.DOUBLE: "d", FIELD_TYPE.YEAR: "B"}.get(t)


def _image(w: _Writer, ind: int, columns: list[Any], present: bytes, ignore_errors: bool,
           check_all: bool, target: str) -> None:
    """Statements decoding one row image at ``p`` (its null bitmap already read into ``nulls``
    and skipped) into the dict ``target``, advancing ``p``. ``check_all`` False: the null bit of a
    NOT NULL column is not looked at (the caller checked that no such bit is set)."""
    names = []
    bit = 0
    run = 0          # bytes of fixed-width values decoded at p + constant since p last moved
    group: list[tuple[str, str, Any]] = []   # struct-read numbers waiting at p + group_at
    group_at = 0

    def flush_group() -> None:
        nonlocal group
        if len(group) == 1:
            v, _, column = group[0]
            _decode_fixed(w, ind, v, column, f"p + {group_at}" if group_at else "p", ignore_errors)
        elif group:
            s = w.const(struct.Struct("<" + "".join(code for _, code, _ in group)).unpack_from, "u")
            w.emit(ind, f"{', '.join(v for v, _, _ in group)} = {s}(data, p + {group_at})")
            for v, _, column in group:
                if column.type == FIELD_TYPE.YEAR:
                    w.emit(ind, f"{v} += 1900")
        group = []

    for i, column in enumerate(columns):
        v = f"v{i}"
        names.append((column.name, v))
        if not present[i // 8] >> (i % 8) & 1:
            w.emit(ind, f"{v} = None")
            continue
        nullable = check_all or getattr(column, "nullable", True)
        size = _fixed_size(column)
        code = _struct_code(column)
        if nullable or size is None or code is None:
            flush_group()
        if nullable or size is None:
            if run:
                w.emit(ind, f"p += {run}")
                run = 0
        inner = ind
        if nullable:
            w.emit(ind, f"if nulls >> {bit} & 1:")
            w.emit(ind + 1, f"{v} = None")
            w.emit(ind, "else:")
            inner = ind + 1
        if size is None:
            _decode_variable(w, inner, v, column, ignore_errors)
        elif nullable:
            _decode_fixed(w, inner, v, column, "p", ignore_errors)
            w.emit(inner, f"p += {size}")
        elif code is not None:
            if not group:
                group_at = run
            group.append((v, code, column))
            run += size
        else:
            _decode_fixed(w, inner, v, column, f"p + {run}" if run else "p", ignore_errors)
            run += size
        bit += 1
    flush_group()
    if run:
        w.emit(ind, f"p += {run}")
    keys = w.const(tuple(n for n, _ in names), "names")
    body = ", ".join(f"{keys}[{j}]: {v}" for j, (_, v) in enumerate(names))
    w.emit(ind, f"{target} = {{{body}}}")


def _careful(w: _Writer, name: str, columns: list[Any], present: bytes, ignore_errors: bool) -> None:
    """``name(data, p) -> (values, p)``: one row image, every null bit looked at."""
    nbytes = _null_bytes(present)
    w.emit(0, f"def {name}(data, p):")
    w.emit(1, f"nulls = int.from_bytes(data[p:p + {nbytes}], 'little')")
    w.emit(1, f"p += {nbytes}")
    _image(w, 1, columns, present, ignore_errors, True, "values")
    w.emit(1, "return values, p")
    w.emit(0, "")


def _image_in_loop(w: _Writer, columns: list[Any], present: bytes, ignore_errors: bool, target: str,
                   careful: str) -> None:
    nbytes = _null_bytes(present)
    w.emit(2, f"nulls = int.from_bytes(data[p:p + {nbytes}], 'little')")
    w.emit(2, f"if nulls & {_not_null_mask(columns, present)}:")
    w.emit(3, f"{target}, p = {careful}(data, p)")
    w.emit(2, "else:")
    w.emit(3, f"p += {nbytes}")
    _image(w, 3, columns, present, ignore_errors, False, target)


class Plan:
    """The decoder of one table map's rows events for given columns-present bitmaps (one; two
    for updates, before and after image): ``decode(data, p, end) -> (rows, p)`` builds the
    library's row dicts from ``data[p:end]``."""

    def __init__(self, columns: list[Any], bitmaps: tuple[bytes, ...], ignore_errors: bool) -> None:
        for column in columns:
            _fixed_size(column)          # raises Unsupported before any code is written
        w = _Writer()
        for n, present in enumerate(bitmaps):
            _careful(w, f"careful{n}", columns, present, ignore_errors)
        w.emit(0, "def decode(data, p, end):")
        w.emit(1, "rows = []")
        w.emit(1, "append = rows.append")
        w.emit(1, "while p < end:")
        if len(bitmaps) == 1:
            _image_in_loop(w, columns, bitmaps[0], ignore_errors, "values", "careful0")
            w.emit(2, "append({'values': values})")
        else:
            _image_in_loop(w, columns, bitmaps[0], ignore_errors, "before", "careful0")
            _image_in_loop(w, columns, bitmaps[1], ignore_errors, "after", "careful1")
            w.emit(2, "append({'before_values': before, 'after_values': after})")
        w.emit(1, "return rows, p")
        namespace: dict[str, Any] = dict(w.consts)
        self.source = "\n".join(w.lines) + "\n"
        exec(compile(self.source, "<pssync row plan>", "exec"), namespace)  # noqa: S102
        self.decode = namespace["decode"]


_PLAN_LIMIT = 64
ENABLED = True      # False: the library's reader (tests and benchmarks compare the two)


def plan_for(table_obj: Any, bitmaps: tuple[bytes, ...], ignore_errors: bool) -> Plan | None:
    """The plan of this table map and bitmaps, built once (kept on the library's Table object,
    which ``CachingTableMapEvent`` hands out again for equal table maps); None if unsupported."""
    plans = table_obj.__dict__.get("_pssync_plans")
    if plans is None:
        plans = table_obj.__dict__["_pssync_plans"] = {}
    key = (bitmaps, ignore_errors)
    try:
        return plans[key]
    except KeyError:
        pass
    try:
        plan: Plan | None = Plan(table_obj.columns, bitmaps, ignore_errors)
    except Unsupported:
        plan = None
    if len(plans) >= _PLAN_LIMIT:
        plans.clear()
    plans[key] = plan
    return plan


def fetch_rows(self: RowsEvent) -> None:
    """``RowsEvent._fetch_rows`` through a compiled plan; the library's own when there is none."""
    wrapper = self.packet
    if (not ENABLED or not self.complete or self.event_type == BINLOG.PARTIAL_UPDATE_ROWS_EVENT
            or wrapper._BinLogPacketWrapper__data_buffer):
        return _original_fetch_rows(self)
    if isinstance(self, UpdateRowsEvent):
        bitmaps: tuple[bytes, ...] = (self.columns_present_bitmap, self.columns_present_bitmap2)
    elif isinstance(self, (WriteRowsEvent, DeleteRowsEvent)):
        bitmaps = (self.columns_present_bitmap,)
    else:
        return _original_fetch_rows(self)
    plan = plan_for(self.table_map[self.table_id], bitmaps, bool(self._ignore_decode_errors))
    if plan is None:
        return _original_fetch_rows(self)
    raw = wrapper.packet               # pymysql's packet, positioned after the bitmaps
    start = raw._position
    length = self.event_size - wrapper.read_bytes
    rows, p = plan.decode(raw._data, start, start + length)
    if p != start + length:
        raise ValueError(f"rows event of {self.schema}.{self.table} ending at binlog position "
                         f"{wrapper.log_pos}: its rows took {p - start} bytes of {length}")
    raw._position = p
    wrapper.read_bytes += length
    self._RowsEvent__rows = rows


def install() -> None:
    RowsEvent._fetch_rows = fetch_rows  # type: ignore[method-assign]


def uninstall() -> None:
    RowsEvent._fetch_rows = _original_fetch_rows  # type: ignore[method-assign]
