"""pssync/jsontext.py: the one JSON default."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from pssync.jsontext import plain


def test_values_json_cannot_hold_become_text_and_the_others_stay():
    at = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
    assert json.loads(json.dumps({"d": Decimal("1.50"), "u": uuid.UUID(int=1), "t": at, "day": at.date(),
                                  "b": b"\x01\xff", "s": {3}}, default=plain)) == {
        "d": "1.50", "u": "00000000-0000-0000-0000-000000000001", "t": "2024-05-01T10:00:00+00:00",
        "day": "2024-05-01", "b": "01ff", "s": "{3}"}
    assert [plain(v) for v in (None, True, 3, 2.5, "x")] == [None, True, 3, 2.5, "x"]
