"""The fast DECIMAL decoder agrees with python-mysql-replication's own, digit for digit."""
import random
from decimal import Decimal, localcontext
from types import SimpleNamespace

import pytest

from pssync.cdc import binlog_speedups
from pssync.cdc.binlog_speedups import decimal_layout, decode_decimal


def encode_decimal(value: Decimal, precision: int, scale: int) -> bytes:
    """MySQL's packed decimal (the binlog's NEWDECIMAL), written from its documented layout."""
    integral, fraction, _ = decimal_layout(precision, scale)
    negative = value < 0
    with localcontext() as ctx:
        ctx.prec = 100
        digits = f"{abs(value):.{scale}f}"
    whole, _, frac = digits.partition(".")
    whole = whole.rjust(precision - scale, "0")
    out = bytearray()
    pos = 0
    for size, n in integral:
        out += int(whole[pos:pos + n] or 0).to_bytes(size, "big")
        pos += n
    pos = 0
    for size, n in fraction:
        out += int(frac[pos:pos + n] or 0).to_bytes(size, "big")
        pos += n
    out[0] |= 0x80
    if negative:
        out = bytearray(b ^ 0xFF for b in out)
    return bytes(out)


class Packet:
    """Just enough of BinLogPacketWrapper for the library's decimal reader."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = bytearray(data), 0

    def read(self, n):
        chunk = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return chunk

    def unread(self, chunk):
        self.pos -= len(chunk)
        self.data[self.pos:self.pos + len(chunk)] = chunk

    def read_uint8(self):
        return self.read(1)[0]

    def read_int_be_by_size(self, size):
        return int.from_bytes(self.read(size), "big", signed=True)


@pytest.mark.parametrize("precision,scale", [(20, 6), (13, 6), (10, 3), (5, 2), (20, 0), (38, 18), (12, 11)])
def test_fast_decoder_matches_the_library(precision, scale):
    rng = random.Random(precision * 100 + scale)
    library = binlog_speedups._original_decimal
    def exact(unscaled: int) -> Decimal:  # no rounding by the 28-digit default context
        return Decimal((int(unscaled < 0), tuple(int(d) for d in str(abs(unscaled))), -scale))

    values = [exact(0), exact(10 ** precision - 1), exact(-(10 ** precision - 1))]
    values += [exact(rng.randrange(-10 ** precision + 1, 10 ** precision)) for _ in range(300)]
    for value in values:
        raw = encode_decimal(value, precision, scale)
        column = SimpleNamespace(precision=precision, decimals=scale)
        theirs = library(SimpleNamespace(packet=Packet(raw)), column)
        ours = decode_decimal(raw, precision, scale)
        assert ours == theirs == value, (value, ours, theirs)
        assert ours.as_tuple().exponent == theirs.as_tuple().exponent


def _time2(hours: int, minutes: int, seconds: int, micros: int, fsp: int, negative: bool) -> bytes:
    """TIME2 as the server packs it (my_time_packed_to_binary)."""
    from pssync.cdc.binlog_speedups import _TIME2_FRACTION_BYTES

    packed = (((hours << 12) | (minutes << 6) | seconds) << 24) + micros
    if negative:
        packed = -packed
    size = _TIME2_FRACTION_BYTES[fsp]
    intpart, frac = packed >> 24, packed & 0xFFFFFF       # floor division, as the server's shifts
    if size == 0:
        return (intpart + 0x800000).to_bytes(3, "big")
    if size in (1, 2):
        scale = 10000 if size == 1 else 100
        frac_units = frac // scale
        return (intpart + 0x800000).to_bytes(3, "big") + frac_units.to_bytes(size, "big")
    return ((packed + (0x800000 << 24)) & ((1 << 48) - 1)).to_bytes(6, "big")


@pytest.mark.parametrize("hours,minutes,seconds,micros,fsp,negative", [
    (0, 0, 0, 1, 6, True), (12, 34, 56, 0, 0, False), (838, 59, 59, 0, 0, True),
    (1, 2, 3, 456789, 6, False), (0, 0, 1, 500000, 2, False), (23, 59, 59, 999900, 4, False),
    (5, 0, 0, 123456, 5, True)])
def test_time2_decodes_as_the_server_packs_it(hours, minutes, seconds, micros, fsp, negative):
    import datetime as dt

    from pssync.cdc.binlog_speedups import decode_time2

    expected = dt.timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micros)
    got = decode_time2(_time2(hours, minutes, seconds, micros, fsp, negative), fsp)
    assert got == (-expected if negative else expected)
