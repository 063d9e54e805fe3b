"""The stock quantity to publish to PrestaShop, from ERP levels and shop orders, without oversell.

For each SKU:

    published = ERP available quantity measured at as_of
                − quantities of live shop orders that measurement did not account for

A measurement accounts for an order when the ERP acknowledged the order (created its sales order,
which lowers its available quantity) at or before ``as_of``, and the order was placed at or before
``as_of``. The acknowledgement, on the ERP's clock like ``as_of``, is what decides; ``placed_at``
(the shop's clock) can only make us subtract more, which is the safe side under clock skew.
``acked_at`` must be no earlier than the moment the ERP's available quantity reflects the order.

Consequences:
* an order stays subtracted until an ERP level newer than its acknowledgement arrives, so the shop
  never gets back stock it promised, in whatever order snapshots, deltas and acks arrive;
* ERP levels older than the one we hold are ignored, a delta never replaces a snapshot of the same
  as_of, and a newer snapshot row replaces whatever a (possibly wrong) delta said;
* cancelled orders (PS_OS_CANCELED / PS_OS_ERROR) stop counting, reinstated ones count again.

Pure state, no I/O. Every event method returns the SKUs whose published value may have changed.
Timestamps must be timezone-aware; quantities are int or Decimal, never float."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from pssync.prestashop.rules import product_level

Mode = Literal["delta", "snapshot"]
Quantity = int | Decimal


@dataclass(frozen=True)
class Level:
    quantity: Decimal
    as_of: dt.datetime
    mode: Mode
    snapshot_id: str | None = None


@dataclass
class _Order:
    lines: dict[str, Decimal] = field(default_factory=dict)
    placed_at: dt.datetime | None = None     # None: only an ack or a cancel has arrived so far
    acked_at: dt.datetime | None = None
    cancelled: bool = False

    def counts_against(self, level: Level) -> bool:
        if self.placed_at is None or self.cancelled:
            return False
        accounted = (self.acked_at is not None and self.acked_at <= level.as_of
                     and self.placed_at <= level.as_of)
        return not accounted


@dataclass(frozen=True)
class Publish:
    """What to write to PrestaShop for one SKU."""
    sku: str
    id_product: int
    id_product_attribute: int
    quantity: int                  # for the row (id_product, id_product_attribute); never negative
    available: Decimal             # unclamped: ERP level − orders it did not account for
    product_level: int | None      # for the (id_product, 0) row when the product has combinations,
                                   # None for a simple product or while a combination has no level
    unacknowledged: Decimal        # live orders of this SKU the ERP has not acknowledged at all
    as_of: dt.datetime             # of the ERP level used

    @property
    def shortfall(self) -> int:
        """Units the shop has promised beyond what the ERP covers (0 when none)."""
        return max(0, -_floor(self.available))


class StockBook:
    def __init__(self, rows: Mapping[str, tuple[int, int]] | None = None):
        self._levels: dict[str, Level] = {}
        self._last_snapshot: dict[str, dt.datetime] = {}
        self._orders: dict[str, _Order] = {}
        self._orders_by_sku: dict[str, set[str]] = defaultdict(set)
        self._rows: dict[str, tuple[int, int]] = {}
        self._sku_by_row: dict[tuple[int, int], str] = {}
        self._skus_by_product: dict[int, set[str]] = defaultdict(set)
        for sku, (id_product, id_product_attribute) in (rows or {}).items():
            self.map_sku(sku, id_product, id_product_attribute)

    # ---- state as plain JSON (for changelog-backed tables) ---------------------------------------
    def to_json(self) -> dict[str, Any]:
        def ts(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None
        return {
            "rows": {sku: list(row) for sku, row in self._rows.items()},
            "levels": {sku: [str(l.quantity), l.as_of.isoformat(), l.mode, l.snapshot_id]
                       for sku, l in self._levels.items()},
            "last_snapshot": {sku: t.isoformat() for sku, t in self._last_snapshot.items()},
            "orders": {key: [{sku: str(q) for sku, q in o.lines.items()}, ts(o.placed_at), ts(o.acked_at),
                             o.cancelled] for key, o in self._orders.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "StockBook":
        def ts(value: str | None) -> dt.datetime | None:
            return dt.datetime.fromisoformat(value) if value is not None else None
        book = cls({sku: (int(r[0]), int(r[1])) for sku, r in data.get("rows", {}).items()})
        for sku, (qty, as_of, mode, snapshot_id) in data.get("levels", {}).items():
            book._levels[sku] = Level(Decimal(qty), dt.datetime.fromisoformat(as_of), mode, snapshot_id)
        book._last_snapshot = {sku: dt.datetime.fromisoformat(t) for sku, t in data.get("last_snapshot", {}).items()}
        for key, (lines, placed, acked, cancelled) in data.get("orders", {}).items():
            book._orders[key] = _Order({sku: Decimal(q) for sku, q in lines.items()}, ts(placed), ts(acked),
                                       bool(cancelled))
            for sku in lines:
                book._orders_by_sku[sku].add(key)
        return book

    # ---- mapping ---------------------------------------------------------------------------------
    def map_sku(self, sku: str, id_product: int, id_product_attribute: int) -> None:
        """Every combination of a product must be mapped for its product_level to be known."""
        row = (id_product, id_product_attribute)
        other = self._sku_by_row.get(row, sku)
        if other != sku:
            raise ValueError(f"row {row} is already mapped to SKU {other!r}, not {sku!r}")
        if sku in self._rows:
            old = self._rows[sku]
            self._skus_by_product[old[0]].discard(sku)
            del self._sku_by_row[old]
        self._rows[sku] = row
        self._sku_by_row[row] = sku
        self._skus_by_product[id_product].add(sku)

    def unmap_sku(self, sku: str) -> None:
        """The SKU no longer names a row of this book (its mapping was deleted, or moved to another
        product): its row, ERP levels and order lines go; what the ERP says of it, and the orders
        the ERP received under it, no longer concern these rows."""
        row = self._rows.pop(sku, None)
        if row is not None:
            self._sku_by_row.pop(row, None)
            self._skus_by_product[row[0]].discard(sku)
        self._levels.pop(sku, None)
        self._last_snapshot.pop(sku, None)
        for key in self._orders_by_sku.pop(sku, set()):
            order = self._orders.get(key)
            if order is not None:
                order.lines.pop(sku, None)

    def remap(self, rows: Mapping[str, tuple[int, int]]) -> None:
        """Make ``rows`` (one SKU per row) the whole mapping; SKUs of the book not in it must have
        been unmapped first (unmap_sku). Unlike map_sku one by one, SKUs may swap rows."""
        missing = set(self._rows) - set(rows)
        if missing:
            raise ValueError(f"unmap {sorted(missing)} before remapping")
        self._rows, self._sku_by_row, self._skus_by_product = {}, {}, defaultdict(set)
        for sku, (id_product, id_product_attribute) in rows.items():
            self.map_sku(sku, id_product, id_product_attribute)

    def rows(self) -> dict[str, tuple[int, int]]:
        """SKU -> (id_product, id_product_attribute) of every mapped SKU."""
        return dict(self._rows)

    # ---- events ------------------------------------------------------------------------------------
    def erp_level(self, sku: str, quantity: Quantity, as_of: dt.datetime, mode: Mode = "delta",
                  snapshot_id: str | None = None) -> set[str]:
        if mode not in ("delta", "snapshot"):
            raise ValueError(f"mode must be delta or snapshot, not {mode!r}")
        level = Level(_quantity(quantity), _aware(as_of, "as_of"), mode, snapshot_id)
        if mode == "snapshot":
            # counts as a fresh snapshot even when a newer delta overtook the row below: on a busy
            # SKU that is the normal case, and needs_snapshot must not ask for snapshots forever
            previous = self._last_snapshot.get(sku)
            self._last_snapshot[sku] = level.as_of if previous is None else max(previous, level.as_of)
        current = self._levels.get(sku)
        if current is not None:
            if level.as_of < current.as_of:
                return set()                      # out of order: we hold newer information
            if level.as_of == current.as_of and mode == "delta" and current.mode == "snapshot":
                return set()
        self._levels[sku] = level
        return self._with_product_siblings({sku})

    def order_placed(self, order_key: str, sku: str, qty: Quantity, placed_at: dt.datetime) -> set[str]:
        """One line of a shop order. Idempotent per (order_key, sku): a redelivery or a second call
        replaces the quantity, so several lines of one SKU must be summed by the caller."""
        qty = _quantity(qty)
        if qty <= 0:
            raise ValueError(f"order {order_key}: quantity of {sku} must be positive, not {qty}")
        order = self._orders.setdefault(order_key, _Order())
        placed_at = _aware(placed_at, "placed_at")
        # lines of one order share a time; if they do not, the latest is the safe one
        order.placed_at = placed_at if order.placed_at is None else max(order.placed_at, placed_at)
        order.lines[sku] = qty
        self._orders_by_sku[sku].add(order_key)
        return self._affected(order)

    def order_acknowledged(self, order_key: str, acked_at: dt.datetime) -> set[str]:
        """The ERP created its sales order at ``acked_at``. May arrive before order_placed."""
        order = self._orders.setdefault(order_key, _Order())
        acked_at = _aware(acked_at, "acked_at")
        # a repeated ack (idempotent re-creation) keeps the latest time: counts the order longer
        order.acked_at = acked_at if order.acked_at is None else max(order.acked_at, acked_at)
        return self._affected(order)

    def order_cancelled(self, order_key: str) -> set[str]:
        """The order entered PS_OS_CANCELED or PS_OS_ERROR. May arrive before order_placed."""
        order = self._orders.setdefault(order_key, _Order())
        order.cancelled = True
        return self._affected(order)

    def order_reinstated(self, order_key: str) -> set[str]:
        """The order left CANCELED/ERROR for a valid state: PrestaShop takes the stock again."""
        order = self._orders.setdefault(order_key, _Order())
        order.cancelled = False
        return self._affected(order)

    # ---- decisions ---------------------------------------------------------------------------------
    def available(self, sku: str) -> Decimal | None:
        """ERP level − live orders it did not account for; None before any ERP level."""
        level = self._levels.get(sku)
        if level is None:
            return None
        promised = sum((self._orders[key].lines[sku] for key in self._orders_by_sku.get(sku, ())
                        if self._orders[key].counts_against(level)), Decimal(0))
        return level.quantity - promised

    def publish(self, sku: str) -> Publish | None:
        """None when the SKU has no ERP level yet or is not a shop row."""
        level, row = self._levels.get(sku), self._rows.get(sku)
        available = self.available(sku)
        if level is None or row is None or available is None:
            return None
        id_product, id_product_attribute = row
        product_value = None
        if id_product_attribute != 0:
            values = [self._quantity_to_publish(s) for s in self._combinations(id_product)]
            product_value = None if None in values else product_level(values)
        return Publish(sku, id_product, id_product_attribute, _publishable(available), available,
                       product_value, self.unacknowledged(sku), level.as_of)

    def unacknowledged(self, sku: str) -> Decimal:
        total = Decimal(0)
        for key in self._orders_by_sku.get(sku, ()):
            order = self._orders[key]
            if order.placed_at is not None and not order.cancelled and order.acked_at is None:
                total += order.lines[sku]
        return total

    def known_orders(self, sku: str, since: dt.datetime) -> tuple[int | str, ...]:
        """Keys of the live and cancelled orders of ``sku`` placed at or after ``since``: what a
        shop-side write guard must not subtract again (the computed value already reflects them)."""
        since = _aware(since, "since")
        keys = [key for key in self._orders_by_sku.get(sku, ())
                if (placed := self._orders[key].placed_at) is not None and placed >= since]
        return tuple(sorted(keys, key=lambda k: (len(str(k)), str(k))))

    def forget_orders(self, placed_before: dt.datetime) -> int:
        """Drop orders placed before ``placed_before`` that no longer count against any level
        (accounted for by the ERP or cancelled): they cannot change a published value again."""
        dropped = 0
        for key, order in list(self._orders.items()):
            if order.placed_at is None or order.placed_at >= placed_before:
                continue
            if not order.cancelled and any(
                    (level := self._levels.get(sku)) is None or order.counts_against(level)
                    for sku in order.lines):
                continue
            for sku in order.lines:
                self._orders_by_sku[sku].discard(key)
            del self._orders[key]
            dropped += 1
        return dropped

    def counted(self, sku: str) -> dict[str, str]:
        """The orders the SKU's current value subtracts (order key -> units): kept with each published
        command so that what the shop should show under it can be told later (``shop_expected``)."""
        level = self._levels.get(sku)
        if level is None:
            return {}
        return {key: str(self._orders[key].lines[sku]) for key in sorted(self._orders_by_sku.get(sku, ()))
                if self._orders[key].counts_against(level)}

    def shop_expected(self, sku: str, sent: "SentStock") -> int:
        """What the shop's row should show now if the sink has applied ``sent`` (and nothing later):
        its value, less the live orders placed since that it did not count (the sink subtracted those
        it did not know, checkouts after its write decremented the row), plus the units of orders it
        counted that were cancelled since (PrestaShop gives them back)."""
        as_of = sent.as_of
        value = sent.available
        for key in self._orders_by_sku.get(sku, ()):
            order = self._orders[key]
            if key in sent.counted:
                if order.cancelled:
                    value += Decimal(sent.counted[key])
            elif order.placed_at is not None and not order.cancelled and not (
                    order.acked_at is not None and order.acked_at <= as_of and order.placed_at <= as_of):
                value -= order.lines[sku]
        return _publishable(value)

    def level(self, sku: str) -> Level | None:
        return self._levels.get(sku)

    def needs_snapshot(self, now: dt.datetime, max_age: dt.timedelta) -> bool:
        """True when some SKU's level has not been confirmed by a snapshot within ``max_age``:
        deltas alone drift (a lost or wrong change is never corrected), snapshots correct them."""
        if not self._levels:
            return True
        horizon = _aware(now, "now") - max_age
        return any(self._last_snapshot.get(sku) is None or self._last_snapshot[sku] < horizon
                   for sku in self._levels)

    # ---- internals ---------------------------------------------------------------------------------
    def _quantity_to_publish(self, sku: str) -> int | None:
        available = self.available(sku)
        return None if available is None else _publishable(available)

    def _combinations(self, id_product: int) -> list[str]:
        return sorted(s for s in self._skus_by_product[id_product] if self._rows[s][1] != 0)

    def _affected(self, order: _Order) -> set[str]:
        return self._with_product_siblings(set(order.lines)) if order.placed_at is not None else set()

    def _with_product_siblings(self, skus: set[str]) -> set[str]:
        """A combination's change also changes its product-level row, published with its siblings."""
        out = set(skus)
        for sku in skus:
            if sku in self._rows and self._rows[sku][1] != 0:
                out |= set(self._combinations(self._rows[sku][0]))
        return out


@dataclass(frozen=True)
class SentStock:
    """A published stock command as the reconciliation needs it: its unclamped value, the ERP level's
    as_of and the orders it subtracted (``StockBook.counted``)."""
    quantity: int
    available: Decimal
    as_of: dt.datetime
    counted: Mapping[str, str]

    def to_json(self) -> list[Any]:
        return [self.quantity, str(self.available), self.as_of.isoformat(), dict(self.counted)]

    @classmethod
    def from_json(cls, data: list[Any]) -> "SentStock":
        return cls(int(data[0]), Decimal(data[1]), dt.datetime.fromisoformat(data[2]), dict(data[3]))


@dataclass(frozen=True)
class Reconciliation:
    action: Literal["in_sync", "correct", "defer", "alert"]
    shop_quantity: int
    computed: int
    delta: int              # computed − shop_quantity: what a correction would add in the shop
    reason: str


def reconcile(shop_quantity: int, computed: Publish, small_delta_threshold: int) -> Reconciliation:
    """Compare what PrestaShop shows with what we computed for the same row.

    correct: |delta| <= threshold and no order of the SKU awaits the ERP: write ``computed``.
    defer:   small, but an unacknowledged order makes the drift ambiguous (the shop has decremented
             for it, the ERP has not yet): check again once acknowledged, do not wake anyone.
    alert:   larger than the threshold: a human looks (wrong mapping, manual edit, lost event).

    ``shop_quantity`` must have been read after the order events it reflects were applied to the
    book (e.g. the stock_available row from the same CDC stream); a checkout we have not seen
    would otherwise look like drift and an upward correction would hand its units back."""
    delta = computed.quantity - shop_quantity
    args = (shop_quantity, computed.quantity, delta)
    if delta == 0:
        return Reconciliation("in_sync", *args, "shop matches")
    if abs(delta) > small_delta_threshold:
        return Reconciliation("alert", *args, f"drift {delta:+d} exceeds {small_delta_threshold}")
    if computed.unacknowledged > 0:
        return Reconciliation("defer", *args,
                              f"drift {delta:+d} while {computed.unacknowledged} units await the ERP")
    return Reconciliation("correct", *args, f"small drift {delta:+d}, no order awaiting the ERP")


def _publishable(available: Decimal) -> int:
    # Never negative. A negative value means the shop already promised more than the ERP covers;
    # publishing it would not stop a single extra sale that 0 does not stop (PrestaShop refuses
    # orders at <= 0 unless backorders are allowed, and then the quantity is no limit at all), but
    # it would hide units of sibling combinations in the product-level sum. The shortfall is
    # reported (Publish.available / shortfall) for alerting instead. Floor: a fractional ERP
    # quantity never rounds up to a unit the ERP does not have.
    return max(0, _floor(available))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _quantity(value: Quantity) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"quantity must be int or Decimal, not {type(value).__name__}")
    return Decimal(value)


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value
