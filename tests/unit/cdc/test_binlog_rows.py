"""The compiled DECIMAL reader of cdc/binlog_rows.py agrees with binlog_speedups' (itself checked
against python-mysql-replication's), digit for digit, on every layout of packed groups."""
import random
from decimal import Decimal

import pytest

from pssync.cdc.binlog_rows import _decimal_decoder
from pssync.cdc.binlog_speedups import decode_decimal
from tests.unit.cdc.test_binlog_speedups import encode_decimal


@pytest.mark.parametrize("precision,scale", [(20, 6), (13, 6), (10, 3), (5, 2), (20, 0), (38, 18),
                                             (12, 11), (65, 30), (9, 9), (18, 9), (1, 0), (65, 0)])
def test_compiled_decimal_matches(precision, scale):
    rng = random.Random(precision * 1000 + scale)
    decode = _decimal_decoder(precision, scale)
    cache: dict = {}
    for _ in range(300):
        digits = "".join(rng.choice("0123456789") for _ in range(precision))
        sign = rng.choice(("", "-"))
        whole, frac = digits[:precision - scale] or "0", digits[precision - scale:]
        value = Decimal(f"{sign}{whole}.{frac}" if scale else f"{sign}{whole}")
        raw = encode_decimal(value, precision, scale)
        ours, theirs = decode(raw, cache), decode_decimal(raw, precision, scale)
        assert (str(ours), ours.as_tuple()) == (str(theirs), theirs.as_tuple()), (precision, scale, value)
        assert cache[raw] is ours
