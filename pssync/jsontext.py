"""The one JSON default of pssync, for values JSON cannot hold (``json.dumps(..., default=plain)``):
Decimal and UUID as their text, dates and datetimes in ISO 8601, bytes as hex, what JSON holds as
it is, anything else as str. Also used on single values (``pssync cdc tail``)."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)
