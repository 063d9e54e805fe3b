"""streams/stock.py state handling: a StockBook stored as JSON (changelog-backed table) comes back
publishing the same values; known_orders lists what a shop-side write guard must not subtract
again; forget_orders drops only orders that can no longer change a published value."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pssync.streams.stock import StockBook

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
ROWS = {"TS-S": (1, 1), "TS-M": (1, 2), "MUG": (6, 0), "CAP": (7, 0)}
SKUS = (*ROWS, "UNMAPPED")


def T(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def stored(book: StockBook) -> StockBook:
    """Through the state store: plain JSON text and back."""
    return StockBook.from_json(json.loads(json.dumps(book.to_json())))


def busy_book() -> StockBook:
    b = StockBook(ROWS)
    b.erp_level("TS-S", 10, T(0), "snapshot", "snap-1")
    b.erp_level("TS-M", Decimal("4.5"), T(0), "snapshot", "snap-1")
    b.erp_level("TS-M", Decimal("3.5"), T(5), "delta")            # a delta newer than the snapshot
    b.erp_level("MUG", 20, T(2), "delta")                          # never confirmed by a snapshot
    b.erp_level("UNMAPPED", 9, T(1), "snapshot", "snap-1")         # a level for a SKU not in the shop
    b.order_placed("101", "TS-S", 2, T(1))                          # acknowledged, level older than ack
    b.order_placed("101", "MUG", Decimal("1.5"), T(1))
    b.order_acknowledged("101", T(3))
    b.order_placed("102", "TS-M", 1, T(2))                          # cancelled
    b.order_cancelled("102")
    b.order_placed("103", "TS-S", 3, T(4))                          # unacknowledged
    b.order_placed("104", "CAP", 1, T(4))                           # SKU without a level
    b.order_acknowledged("105", T(6))                              # ack before its lines
    b.order_cancelled("106")                                       # cancel before its lines
    return b


def snapshot_of(b: StockBook) -> dict:
    """Everything observable through the public interface."""
    return {sku: (b.publish(sku), b.available(sku), b.unacknowledged(sku), b.level(sku),
                  b.known_orders(sku, T(-60)), b.known_orders(sku, T(2)))
            for sku in SKUS}


# ---- to_json / from_json ---------------------------------------------------------------------------

def test_round_trip_preserves_everything_observable():
    b = busy_book()
    restored = stored(b)
    assert snapshot_of(restored) == snapshot_of(b)
    assert restored.to_json() == b.to_json()


def test_round_trip_preserves_published_values():
    restored = stored(busy_book())
    ts_s, ts_m, mug = restored.publish("TS-S"), restored.publish("TS-M"), restored.publish("MUG")
    assert ts_s is not None and ts_m is not None and mug is not None
    assert (ts_s.quantity, ts_s.available, ts_s.unacknowledged) == (5, Decimal(5), Decimal(3))
    assert (ts_m.quantity, ts_m.available, ts_m.as_of) == (3, Decimal("3.5"), T(5))
    assert ts_s.product_level == ts_m.product_level == 8
    assert (mug.quantity, mug.available, mug.product_level) == (18, Decimal("18.5"), None)
    assert restored.publish("CAP") is None          # no level yet
    assert restored.publish("UNMAPPED") is None     # level, but not a shop row
    assert restored.available("UNMAPPED") == Decimal(9)


def test_round_trip_preserves_levels_exactly():
    restored = stored(busy_book())
    level = restored.level("TS-M")
    assert level is not None
    assert (level.quantity, level.as_of, level.mode, level.snapshot_id) == (Decimal("3.5"), T(5), "delta", None)
    assert isinstance(level.quantity, Decimal) and level.as_of.tzinfo is not None
    snap = restored.level("TS-S")
    assert snap is not None and (snap.mode, snap.snapshot_id) == ("snapshot", "snap-1")


def test_round_trip_preserves_snapshot_times():
    b = busy_book()
    restored = stored(b)
    # MUG was never snapshotted
    assert restored.needs_snapshot(T(5), dt.timedelta(hours=1)) is True
    b.erp_level("MUG", 20, T(2), "snapshot", "snap-2")
    restored.erp_level("MUG", 20, T(2), "snapshot", "snap-2")
    for now, age in ((T(5), dt.timedelta(hours=1)), (T(60), dt.timedelta(minutes=59)),
                     (T(60), dt.timedelta(minutes=60)), (T(61), dt.timedelta(minutes=60))):
        assert restored.needs_snapshot(now, age) == b.needs_snapshot(now, age)
    # TS-M's snapshot at T0 was overtaken by a delta but still counts as its last snapshot
    assert restored.needs_snapshot(T(60), dt.timedelta(minutes=60)) is False
    assert restored.needs_snapshot(T(61), dt.timedelta(minutes=60)) is True


def test_a_delta_cannot_replace_a_restored_snapshot_of_the_same_time():
    restored = stored(busy_book())
    assert restored.erp_level("TS-S", 99, T(0), "delta") == set()
    assert restored.level("TS-S").quantity == Decimal(10)
    assert restored.erp_level("TS-M", 1, T(4), "snapshot", "late") == set()   # older than the delta
    assert restored.level("TS-M").quantity == Decimal("3.5")


def test_round_trip_preserves_orders_acks_and_cancellations():
    b, restored = busy_book(), stored(busy_book())
    events = [
        lambda x: x.erp_level("TS-S", 8, T(3), "delta"),         # now covers order 101
        lambda x: x.order_reinstated("102"),                      # cancelled order counts again
        lambda x: x.order_acknowledged("103", T(7)),
        lambda x: x.order_placed("105", "MUG", 2, T(5)),          # lines of the early ack
        lambda x: x.order_placed("106", "TS-M", 1, T(5)),         # lines of the early cancel
        lambda x: x.erp_level("MUG", 20, T(6), "delta"),          # covers 101 and 105
        lambda x: x.erp_level("CAP", 4, T(3), "snapshot", "s"),
        lambda x: x.erp_level("TS-S", 5, T(8), "delta"),
    ]
    for event in events:
        assert event(restored) == event(b)
        assert snapshot_of(restored) == snapshot_of(b)
    assert restored.publish("TS-M").quantity == 2            # 3.5 − reinstated 102 floored; 106 cancelled
    assert restored.publish("MUG").quantity == 20
    assert restored.publish("CAP").quantity == 3


def test_round_trip_preserves_acked_and_cancelled_flags():
    data = stored(busy_book()).to_json()["orders"]
    assert data["101"] == [{"TS-S": "2", "MUG": "1.5"}, T(1).isoformat(), T(3).isoformat(), False]
    assert data["102"][3] is True and data["102"][2] is None
    assert data["103"][2] is None and data["103"][3] is False
    assert data["105"] == [{}, None, T(6).isoformat(), False]
    assert data["106"] == [{}, None, None, True]


def test_round_trip_preserves_the_mapping():
    restored = stored(busy_book())
    with pytest.raises(ValueError, match="already mapped"):
        restored.map_sku("OTHER", 1, 1)
    assert restored.to_json()["rows"] == {sku: list(row) for sku, row in ROWS.items()}
    # remapping a restored SKU moves it out of its old product's sum
    restored.map_sku("TS-M", 8, 0)
    ts_s = restored.publish("TS-S")
    assert ts_s is not None and ts_s.product_level == 5
    restored.map_sku("OTHER", 1, 2)                    # the freed row can be taken
    assert restored.publish("TS-S").product_level is None   # OTHER has no level yet


def test_round_trip_twice_is_stable_and_empty_book():
    b = busy_book()
    assert stored(stored(b)).to_json() == b.to_json()
    empty = stored(StockBook())
    assert empty.to_json() == {"rows": {}, "levels": {}, "last_snapshot": {}, "orders": {}}
    assert StockBook.from_json({}).to_json() == empty.to_json()
    assert empty.publish("MUG") is None


def test_to_json_is_plain_json():
    data = busy_book().to_json()
    assert json.loads(json.dumps(data)) == data


# ---- known_orders ----------------------------------------------------------------------------------

def test_known_orders_only_of_that_sku_placed_at_or_after_since():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 1, T(0))
    b.order_placed("2", "MUG", 1, T(5))
    b.order_placed("3", "MUG", 1, T(10))
    b.order_placed("4", "TS-S", 1, T(10))
    b.order_placed("5", "TS-S", 1, T(6))
    b.order_placed("5", "MUG", 2, T(6))
    assert b.known_orders("MUG", T(5)) == ("2", "3", "5")       # T(5) itself included
    assert b.known_orders("MUG", T(5) + dt.timedelta(microseconds=1)) == ("3", "5")
    assert b.known_orders("TS-S", T(0)) == ("4", "5")
    assert b.known_orders("MUG", T(11)) == ()
    assert b.known_orders("TS-M", T(0)) == ()
    assert b.known_orders("NEVER", T(0)) == ()


def test_known_orders_include_cancelled_and_acknowledged_but_not_orders_without_lines():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 1, T(1))
    b.order_cancelled("1")
    b.order_placed("2", "MUG", 1, T(1))
    b.order_acknowledged("2", T(2))
    b.order_acknowledged("3", T(2))          # ack only: not placed as far as the book knows
    b.order_cancelled("4")
    b.erp_level("MUG", 10, T(3), "delta")
    assert b.known_orders("MUG", T(0)) == ("1", "2")


def test_known_orders_sorted_numerically_for_numeric_keys():
    b = StockBook(ROWS)
    for key, minute in (("100", 1), ("9", 3), ("10", 2), ("1000", 0), ("11", 4)):
        b.order_placed(key, "MUG", 1, T(minute))
    assert b.known_orders("MUG", T(0)) == ("9", "10", "11", "100", "1000")


def test_known_orders_rejects_a_naive_since():
    with pytest.raises(ValueError, match="since"):
        StockBook(ROWS).known_orders("MUG", dt.datetime(2024, 5, 1))


def test_known_orders_survive_a_round_trip():
    b = busy_book()
    assert stored(b).known_orders("TS-S", T(0)) == b.known_orders("TS-S", T(0)) == ("101", "103")
    assert stored(b).known_orders("MUG", T(0)) == ("101",)


# ---- forget_orders ----------------------------------------------------------------------------------

def test_forget_drops_an_order_accounted_for_by_a_newer_level():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 2, T(0))
    b.order_acknowledged("1", T(2))
    b.erp_level("MUG", 8, T(3), "delta")
    before = b.publish("MUG")
    assert b.forget_orders(T(10)) == 1
    assert b.publish("MUG") == before
    assert b.known_orders("MUG", T(-60)) == ()
    assert "1" not in b.to_json()["orders"]


def test_forget_drops_an_order_acknowledged_exactly_at_the_level():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 2, T(0))
    b.order_acknowledged("1", T(3))
    b.erp_level("MUG", 8, T(3), "delta")
    assert b.forget_orders(T(10)) == 1


def test_forget_keeps_an_order_whose_ack_is_newer_than_the_level():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 2, T(0))
    b.order_acknowledged("1", T(4))
    b.erp_level("MUG", 10, T(3), "delta")
    assert b.forget_orders(T(10)) == 0
    assert b.publish("MUG").quantity == 8


def test_forget_keeps_unacknowledged_orders():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 2, T(0))
    b.erp_level("MUG", 10, T(3), "delta")
    assert b.forget_orders(T(10)) == 0
    assert b.publish("MUG").quantity == 8
    assert b.known_orders("MUG", T(0)) == ("1",)


def test_forget_keeps_an_acknowledged_order_whose_sku_has_no_level():
    b = StockBook(ROWS)
    b.order_placed("1", "CAP", 2, T(0))
    b.order_acknowledged("1", T(1))
    assert b.forget_orders(T(10)) == 0
    b.erp_level("CAP", 10, T(0.5), "snapshot", "s")      # measured before the ack: must still subtract
    assert b.publish("CAP").quantity == 8


def test_forget_keeps_a_multi_line_order_until_every_sku_accounts_for_it():
    b = StockBook(ROWS)
    b.order_placed("1", "MUG", 1, T(0))
    b.order_placed("1", "TS-S", 1, T(0))
    b.order_acknowledged("1", T(1))
    b.erp_level("MUG", 9, T(2), "delta")                  # accounts for it
    b.erp_level("TS-S", 10, T(0.5), "delta")              # does not
    assert b.forget_orders(T(10)) == 0
    b.order_placed("2", "MUG", 1, T(0))
    b.order_placed("2", "CAP", 1, T(0))                   # CAP has no level
    b.order_acknowledged("2", T(1))
    assert b.forget_orders(T(10)) == 0
    b.erp_level("TS-S", 9, T(2), "delta")
    assert b.forget_orders(T(10)) == 1                    # order 1 only
    assert b.known_orders("MUG", T(-60)) == ("2",)


def test_forget_drops_cancelled_orders_even_without_level_or_ack():
    b = StockBook(ROWS)
    b.order_placed("1", "CAP", 2, T(0))
    b.order_cancelled("1")
    b.order_placed("2", "MUG", 2, T(0))
    b.order_cancelled("2")
    b.erp_level("MUG", 10, T(-5), "delta")               # older than the order
    assert b.publish("MUG").quantity == 10
    assert b.forget_orders(T(10)) == 2
    assert b.publish("MUG").quantity == 10
    assert b.to_json()["orders"] == {}


def test_forget_keeps_orders_placed_at_or_after_the_cut():
    b = StockBook(ROWS)
    for key, minute in (("1", 9), ("2", 10), ("3", 11)):
        b.order_placed(key, "MUG", 1, T(minute))
        b.order_acknowledged(key, T(minute))
    b.order_placed("4", "MUG", 1, T(12))
    b.order_cancelled("4")
    b.erp_level("MUG", 10, T(20), "delta")
    assert b.forget_orders(T(10)) == 1
    assert b.known_orders("MUG", T(0)) == ("2", "3", "4")


def test_forget_keeps_orders_without_lines():
    b = StockBook(ROWS)
    b.order_acknowledged("1", T(0))
    b.order_cancelled("2")
    b.erp_level("MUG", 10, T(5), "delta")
    assert b.forget_orders(T(60)) == 0
    assert set(b.to_json()["orders"]) == {"1", "2"}
    b.order_placed("1", "MUG", 3, T(1))                   # its lines still meet its ack
    assert b.publish("MUG").quantity == 10
    b.order_placed("2", "MUG", 3, T(1))                   # and its cancellation
    assert b.publish("MUG").quantity == 10


def test_forget_does_not_change_any_published_value():
    b = busy_book()
    b.erp_level("TS-S", 8, T(3), "delta")                 # accounts for 101 on TS-S
    b.erp_level("MUG", Decimal("18.5"), T(3), "delta")    # and on MUG
    b.order_placed("107", "TS-M", 1, T(9))
    b.order_acknowledged("107", T(9))                     # after the cut below
    b.erp_level("TS-M", 3, T(9), "delta")
    before = {sku: (b.publish(sku), b.available(sku), b.unacknowledged(sku)) for sku in SKUS}
    assert b.forget_orders(T(8)) == 2                     # 101 (accounted) and 102 (cancelled)
    assert {sku: (b.publish(sku), b.available(sku), b.unacknowledged(sku)) for sku in SKUS} == before
    assert set(b.to_json()["orders"]) == {"103", "104", "105", "106", "107"}
    assert b.forget_orders(T(8)) == 0                     # nothing more to drop
    restored = stored(b)
    assert {sku: (restored.publish(sku), restored.available(sku)) for sku in SKUS} == \
        {sku: (p, a) for sku, (p, a, _) in before.items()}


def test_forget_then_later_events_behave_as_without_forgetting():
    kept, forgetful = busy_book(), busy_book()
    for b in (kept, forgetful):
        b.erp_level("TS-S", 8, T(3), "delta")
        b.erp_level("MUG", Decimal("18.5"), T(3), "delta")
    assert forgetful.forget_orders(T(8)) == 2
    events = [
        lambda x: x.order_acknowledged("103", T(9)),
        lambda x: x.erp_level("TS-S", 5, T(10), "delta"),
        lambda x: x.erp_level("MUG", 17, T(11), "snapshot", "s2"),
        lambda x: x.order_placed("108", "TS-M", 1, T(12)),
        lambda x: x.erp_level("CAP", 4, T(2), "delta"),
    ]
    for event in events:
        event(kept)
        event(forgetful)
        for sku in SKUS:
            assert forgetful.publish(sku) == kept.publish(sku), sku
