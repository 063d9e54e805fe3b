import datetime as dt
from decimal import Decimal

from pssync.erp.base import Change, Cursor, StockLevel
from pssync.erp.poller import advance, select_new

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def change(row: int, seconds: float, rev: int = 0) -> Change:
    ts = T0 + dt.timedelta(seconds=seconds)
    record = StockLevel(f"sku-{row}", str(row), Decimal(1), "WH", ts)
    return Change("stock", f"sku-{row}", record, ts, f"{row:012d}", f"move:{row}:{ts.isoformat()}:{rev}")


def test_cursor_takes_the_newest_keyset_position_even_with_equal_timestamps():
    a, b = change(1, 0), change(2, 0)   # same write timestamp
    cur = advance(Cursor(), [a, b], dt.timedelta(seconds=60))
    assert (cur.ts, cur.id) == (T0, f"{2:012d}")


def test_overlap_rows_already_emitted_are_not_emitted_again():
    a, b = change(1, 0), change(2, 1)
    cur = advance(Cursor(), [a, b], dt.timedelta(seconds=60))
    late = change(3, 0.5)               # committed late with an older timestamp
    fresh = [change(4, 2)]
    assert select_new(cur, [a, late, b], fresh) == [late, fresh[0]]


def test_recent_versions_outside_the_window_are_forgotten():
    old, new = change(1, 0), change(2, 120)
    cur = advance(advance(Cursor(), [old], dt.timedelta(seconds=60)), [new], dt.timedelta(seconds=60))
    assert [v for v, _ in cur.recent] == [new.version]


def test_cursor_json_round_trip():
    cur = advance(Cursor(), [change(1, 0)], dt.timedelta(seconds=60))
    assert Cursor.from_json(cur.to_json()) == cur
