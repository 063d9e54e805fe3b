"""streams/stock.py: the quantity published to PrestaShop never exceeds what the ERP can cover,
whatever the order in which ERP levels, shop orders, acknowledgements and cancellations arrive."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from pssync.streams.stock import Publish, StockBook, reconcile

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
ROWS = {"TS-S": (1, 1), "TS-M": (1, 2), "MUG": (6, 0)}   # two combinations of product 1, a simple product


def T(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def book() -> StockBook:
    return StockBook(ROWS)


def published(b: StockBook, sku: str) -> int:
    p = b.publish(sku)
    assert p is not None
    return p.quantity


# ---- the classic race ------------------------------------------------------------------------

def test_snapshot_measured_before_an_order_but_arriving_after_it_does_not_give_the_units_back():
    b = book()
    b.order_placed("XKBKNABJK", "MUG", 2, T(1))          # T1: sold in the shop, not yet in the ERP
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")        # T2: the snapshot taken at T0 arrives
    assert published(b, "MUG") == 8
    b.order_acknowledged("XKBKNABJK", T(3))               # T3: the ERP created its sales order
    assert published(b, "MUG") == 8                      # the T0 snapshot still lacks it
    b.erp_level("MUG", 8, T(4), "delta")                  # T4: the ERP counts it now
    assert published(b, "MUG") == 8


def test_the_race_in_the_other_delivery_order():
    b = book()
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")
    assert published(b, "MUG") == 10
    b.order_placed("A", "MUG", 2, T(1))
    assert published(b, "MUG") == 8


def test_an_order_acknowledged_after_a_measurement_is_still_subtracted_from_it():
    b = book()
    b.order_placed("A", "MUG", 2, T(0))
    b.order_acknowledged("A", T(3))
    b.erp_level("MUG", 10, T(2), "delta")                 # measured before the ERP knew the order
    assert published(b, "MUG") == 8
    b.erp_level("MUG", 8, T(3), "delta")                  # acknowledged at exactly as_of: counted
    assert published(b, "MUG") == 8


def test_a_late_acknowledgement_only_ever_lowers_the_uncertainty_not_the_promise():
    b = book()
    b.order_placed("A", "MUG", 2, T(0))
    b.erp_level("MUG", 8, T(4), "delta")                  # the ERP already counts it, we do not know
    assert published(b, "MUG") == 6                       # subtracted twice: safe side
    b.order_acknowledged("A", T(3))
    assert published(b, "MUG") == 8


def test_an_acknowledgement_arriving_before_the_order_event_is_kept():
    b = book()
    assert b.order_acknowledged("A", T(2)) == set()
    b.erp_level("MUG", 8, T(4), "delta")
    b.order_placed("A", "MUG", 2, T(1))
    assert published(b, "MUG") == 8


def test_an_order_placed_after_as_of_counts_even_if_acked_before_it_by_a_skewed_clock():
    b = book()
    b.order_placed("A", "MUG", 2, T(5))                   # shop clock ahead of the ERP clock
    b.order_acknowledged("A", T(3))
    b.erp_level("MUG", 10, T(4), "delta")
    assert published(b, "MUG") == 8


# ---- cancellations ---------------------------------------------------------------------------

def test_a_cancelled_order_gives_the_stock_back_and_a_reinstated_one_takes_it_again():
    b = book()
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")
    b.order_placed("A", "MUG", 2, T(1))
    assert published(b, "MUG") == 8
    assert b.order_cancelled("A") == {"MUG"}
    assert published(b, "MUG") == 10
    b.order_reinstated("A")
    assert published(b, "MUG") == 8


def test_a_cancellation_arriving_before_the_order_event_is_kept():
    b = book()
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")
    b.order_cancelled("A")
    b.order_placed("A", "MUG", 2, T(1))
    assert published(b, "MUG") == 10


def test_a_redelivered_order_line_is_not_counted_twice():
    b = book()
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")
    b.order_placed("A", "MUG", 2, T(1))
    b.order_placed("A", "MUG", 2, T(1))
    assert published(b, "MUG") == 8


# ---- ERP levels: snapshots, deltas, order of arrival -------------------------------------------

def test_a_late_older_delta_is_ignored_after_a_newer_snapshot():
    b = book()
    b.erp_level("MUG", 10, T(5), "snapshot", "s1")
    assert b.erp_level("MUG", 50, T(3), "delta") == set()
    assert b.erp_level("MUG", 50, T(5), "delta") == set()  # same as_of: the snapshot wins
    assert published(b, "MUG") == 10
    assert b.level("MUG").mode == "snapshot"


def test_a_snapshot_corrects_a_wrong_delta():
    b = book()
    b.erp_level("MUG", 50, T(1), "delta")                 # wrong (a lost change in the ERP feed)
    assert published(b, "MUG") == 50
    b.erp_level("MUG", 10, T(2), "snapshot", "s1")
    assert published(b, "MUG") == 10
    b.erp_level("MUG", 9, T(3), "delta")                  # newer deltas apply again
    assert published(b, "MUG") == 9


def test_out_of_order_erp_levels_are_ignored():
    b = book()
    b.erp_level("MUG", 7, T(5), "delta")
    b.erp_level("MUG", 9, T(4), "delta")
    b.erp_level("MUG", 12, T(4), "snapshot", "old")       # a snapshot older than what we hold too
    assert published(b, "MUG") == 7
    assert b.level("MUG").as_of == T(5)


def test_needs_snapshot_when_deltas_have_run_alone_for_too_long():
    b = book()
    hour = dt.timedelta(hours=1)
    assert b.needs_snapshot(T(0), hour)                   # nothing known yet
    b.erp_level("MUG", 7, T(0), "delta")
    assert b.needs_snapshot(T(1), hour)                   # never confirmed by a snapshot
    b.erp_level("MUG", 7, T(1), "snapshot", "s1")
    b.erp_level("TS-S", 3, T(1), "snapshot", "s1")
    b.erp_level("MUG", 6, T(20), "delta")
    assert not b.needs_snapshot(T(30), hour)
    assert b.needs_snapshot(T(62), hour)
    b.erp_level("TS-M", 3, T(61), "delta")
    b.erp_level("MUG", 6, T(61), "snapshot", "s2")
    b.erp_level("TS-S", 3, T(61), "snapshot", "s2")
    assert b.needs_snapshot(T(62), hour)                  # TS-M only ever came by delta


def test_a_snapshot_row_overtaken_by_a_newer_delta_still_resets_the_snapshot_age():
    b = book()
    b.erp_level("MUG", 7, T(10), "delta")                 # the feed moved on while the snapshot ran
    b.erp_level("MUG", 8, T(9), "snapshot", "s1")
    assert published(b, "MUG") == 7
    assert not b.needs_snapshot(T(30), dt.timedelta(hours=1))


# ---- what is published -------------------------------------------------------------------------

def test_negative_availability_is_published_as_zero_with_the_shortfall_reported():
    b = book()
    b.erp_level("TS-S", 1, T(0), "snapshot", "s1")
    b.erp_level("TS-M", 4, T(0), "snapshot", "s1")
    b.order_placed("A", "TS-S", 3, T(1))
    p = b.publish("TS-S")
    assert (p.quantity, p.available, p.shortfall) == (0, Decimal(-2), 2)
    assert p.product_level == 4                           # the other combination's units stay visible


def test_fractional_erp_quantities_round_down():
    b = book()
    b.erp_level("MUG", Decimal("7.9999"), T(0), "snapshot", "s1")
    assert published(b, "MUG") == 7


def test_unknown_sku_publishes_nothing_and_bad_inputs_are_refused():
    b = book()
    b.erp_level("NOT-IN-SHOP", 5, T(0), "snapshot", "s1")
    assert b.publish("NOT-IN-SHOP") is None and b.available("NOT-IN-SHOP") == 5
    assert b.publish("MUG") is None
    with pytest.raises(ValueError, match="timezone-aware"):
        b.erp_level("MUG", 5, dt.datetime(2024, 5, 1), "delta")
    with pytest.raises(TypeError):
        b.erp_level("MUG", 5.0, T(0), "delta")
    with pytest.raises(ValueError):
        b.order_placed("A", "MUG", 0, T(0))
    with pytest.raises(ValueError, match="already mapped"):
        b.map_sku("OTHER", 6, 0)


# ---- reconcile -----------------------------------------------------------------------------------

def computed(quantity: int, unacknowledged: int = 0) -> Publish:
    return Publish("MUG", 6, 0, quantity, Decimal(quantity), None, Decimal(unacknowledged), T(0))


def test_reconcile_in_sync():
    assert reconcile(8, computed(8), 2).action == "in_sync"


def test_reconcile_corrects_small_drift_when_nothing_is_pending():
    r = reconcile(10, computed(8), 2)
    assert (r.action, r.delta, r.computed) == ("correct", -2, 8)
    assert reconcile(6, computed(8), 2).action == "correct"


def test_reconcile_defers_small_drift_while_an_order_awaits_the_erp():
    r = reconcile(9, computed(8, unacknowledged=2), 2)
    assert r.action == "defer" and r.delta == -1


def test_reconcile_alerts_on_large_drift_even_when_unambiguous():
    assert reconcile(20, computed(8), 2).action == "alert"
    assert reconcile(0, computed(8, unacknowledged=1), 2).action == "alert"


def test_reconcile_uses_what_the_book_computed():
    b = book()
    b.erp_level("MUG", 10, T(0), "snapshot", "s1")
    b.order_placed("A", "MUG", 2, T(1))
    assert reconcile(8, b.publish("MUG"), 1).action == "in_sync"
    assert reconcile(9, b.publish("MUG"), 1).action == "defer"
    b.order_acknowledged("A", T(2))
    b.erp_level("MUG", 8, T(3), "delta")
    assert reconcile(9, b.publish("MUG"), 1).action == "correct"


# ---- random interleavings ------------------------------------------------------------------------

def simulate(seed: int, horizon: int = 50) -> list[tuple]:
    """A world: shop orders (some cancelled), ERP acknowledgements, ERP stock moves of its own,
    ERP measurements (true ATP, now and then a wrong delta), each delivered after a random delay,
    a few of them twice.
    Returns events in delivery order: (kind, payload, true_ack_times)."""
    rnd = random.Random(seed)
    skus = list(ROWS)
    changes: list[tuple[int, str, int]] = [(0, sku, rnd.randint(0, 12)) for sku in skus]
    pending: list[tuple[float, float, str, tuple]] = []
    true_acks: dict[str, int] = {}

    def deliver(at: float, kind: str, payload: tuple) -> None:
        pending.append((at, rnd.random(), kind, payload))
        if rnd.random() < 0.05:                            # at-least-once: now and then twice
            pending.append((at + rnd.randint(1, 20), rnd.random(), kind, payload))

    def atp(sku: str, t: int) -> int:
        return sum(q for when, s, q in changes if s == sku and when <= t)

    for t in range(1, horizon):
        roll = rnd.random()
        if roll < 0.4:
            key = f"O{t}"
            lines = {sku: rnd.randint(1, 3) for sku in rnd.sample(skus, rnd.randint(1, 2))}
            cdc_delay = rnd.choice([0, 0, 1, 3, 9])
            for sku, qty in lines.items():
                deliver(t + cdc_delay, "placed", (key, sku, qty, t))
            cancelled = t + rnd.randint(0, 15) if rnd.random() < 0.2 else None
            acked = t + rnd.randint(0, 12) if rnd.random() < 0.85 else None
            if acked is not None and cancelled is not None and cancelled < acked:
                acked = None                               # the sink never sent it to the ERP
            if acked is not None:
                true_acks[key] = acked
                changes.extend((acked, sku, -qty) for sku, qty in lines.items())
                deliver(acked + rnd.choice([0, 1, 4, 12]), "acked", (key, acked))
                if cancelled is not None:                  # the ERP cancels its sale a bit later
                    changes.extend((cancelled + rnd.randint(1, 4), sku, qty) for sku, qty in lines.items())
            if cancelled is not None:
                deliver(cancelled + rnd.choice([0, 1, 5]), "cancelled", (key,))
        elif roll < 0.55:
            changes.append((t, rnd.choice(skus), rnd.randint(-3, 6)))   # ERP-side receipts and sales
        elif roll < 0.7:
            snapshot_id = f"s{t}"
            delay = rnd.choice([0, 1, 2, 6, 15])
            for sku in skus:
                deliver(t + delay + rnd.random(), "level", (sku, atp(sku, t), t, "snapshot", snapshot_id))
        else:
            sku = rnd.choice(skus)
            qty = atp(sku, t) + (rnd.randint(-4, 4) if rnd.random() < 0.1 else 0)
            deliver(t + rnd.choice([0, 0, 1, 3, 10]), "level", (sku, qty, t, "delta", None))
    pending.sort(key=lambda e: (e[0], e[1]))
    return [(kind, payload, true_acks) for _, _, kind, payload in pending]


def reference(sku: str, levels: list, placed: dict, acks: dict, cancelled: set) -> tuple[int, int] | None:
    """(as_of, available) from the delivered events, recomputed from scratch: the newest level
    (a snapshot beating a delta of the same as_of, then the latest delivered), minus the
    delivered, not cancelled orders placed after as_of or not acknowledged by as_of."""
    mine = [lv for lv in levels if lv[0] == sku]
    if not mine:
        return None
    _, qty, as_of, mode, _, index = max(mine, key=lambda lv: (lv[2], lv[3] == "snapshot", lv[5]))
    promised = 0
    for (key, line_sku), (q, placed_at) in placed.items():
        if line_sku != sku or key in cancelled:
            continue
        if placed_at > as_of or acks.get(key) is None or acks[key] > as_of:
            promised += q
    return as_of, qty - promised


@pytest.mark.parametrize("seed", range(300))
def test_random_interleavings_never_publish_more_than_the_erp_covers(seed):
    b = book()
    levels, placed, delivered_acks, cancelled = [], {}, {}, set()
    before: dict[str, int | None] = {}
    for index, (kind, payload, true_acks) in enumerate(simulate(seed)):
        if kind == "placed":
            key, sku, qty, at = payload
            b.order_placed(key, sku, qty, T(at))
            placed[(key, sku)] = (qty, at)
        elif kind == "acked":
            key, at = payload
            b.order_acknowledged(key, T(at))
            delivered_acks[key] = at
        elif kind == "cancelled":
            b.order_cancelled(payload[0])
            cancelled.add(payload[0])
        else:
            sku, qty, at, mode, snapshot_id = payload
            b.erp_level(sku, qty, T(at), mode, snapshot_id)
            levels.append((sku, qty, at, mode, snapshot_id, index))

        now = {}
        for sku in ROWS:
            p = b.publish(sku)
            exact = reference(sku, levels, placed, delivered_acks, cancelled)
            bound = reference(sku, levels, placed, true_acks, cancelled)
            if exact is None:
                assert p is None
                now[sku] = None
                continue
            as_of, available = exact
            # the safety property, against the ERP's real acknowledgement times
            assert p.quantity <= max(0, bound[1]), (seed, index, sku)
            # and the exact value from what was delivered
            assert (p.as_of, p.available, p.quantity) == (T(as_of), available, max(0, available)), (seed, index, sku)
            now[sku] = p.quantity
        combos = [now[s] for s, (_, attr) in ROWS.items() if attr != 0]
        for sku in ("TS-S", "TS-M"):
            if now[sku] is not None:
                expected = None if None in combos else sum(combos)
                assert b.publish(sku).product_level == expected
        if kind == "placed":   # a new order never hands units back to the shop
            assert all(now[s] is None or before.get(s) is None or now[s] <= before[s] for s in ROWS)
        before = now
