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
