"""Change feeds and the stock snapshot, as every ERP adapter promises them (erp/base.py): changes
after a (ts, row id) cursor in keyset order, nothing skipped or repeated across pages, also when
rows share one timestamp; a snapshot whose pages cover every SKU exactly once."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from pssync.erp.base import CHANGE_KINDS, Change, ErpAdapter
from tests.integration.erp.subjects import Position, Subject

pytestmark = pytest.mark.integration

MAX_PAGES = 500          # a feed that never ends is a failure, not a hang


@dataclass
class Expected:
    """The changes a test made: the feed may carry others too (the shared Tryton)."""
    start: Position                            # a cursor before the changes the ERP was given
    want: dict[str, dict[str, Any]]            # ours -> fields its latest change must carry
    by: Callable[[Change], Any] = lambda change: change.key   # what names ours in a change

    def identify(self, change: Change) -> str | None:
        name = self.by(change)
        return name if name in self.want else None


def stock(subject: Subject) -> Expected:
    skus = subject.driver.new_products(3)
    start = subject.driver.checkpoint()
    subject.driver.receive_stock(skus, 7)
    return Expected(start, {s: {"sku": s, "quantity": Decimal(7)} for s in skus})


def price(subject: Subject) -> Expected:
    skus = subject.driver.new_products(3, Decimal("10.00"))
    start = subject.driver.checkpoint()
    subject.driver.set_price(skus, Decimal("12.50"))
    return Expected(start, {s: {"sku": s, "list_price": Decimal("12.50")} for s in skus})


def product(subject: Subject) -> Expected:
    start = subject.driver.checkpoint()
    skus = subject.driver.new_products(3)
    return Expected(start, {s: {"sku": s, "name": subject.driver.names[s], "active": True}
                            for s in skus})


def _orders(subject: Subject, n: int) -> dict[str, str]:
    """``n`` orders created through the adapter: erp id -> shop reference."""
    (sku,) = subject.driver.new_products(1)
    orders = [subject.driver.order((sku, "1", "9.90")) for _ in range(n)]
    return {subject.adapter.create_sales_order(o).erp_order_id: o.shop_reference for o in orders}


def order_status(subject: Subject) -> Expected:
    start = subject.driver.checkpoint()
    orders = _orders(subject, 2)
    subject.driver.touch_orders(list(orders))
    return Expected(start, {erp_id: {"erp_order_id": erp_id, "shop_reference": ref,
                                     "state": subject.driver.order_state(erp_id)}
                            for erp_id, ref in orders.items()})


def shipment(subject: Subject) -> Expected:
    orders = _orders(subject, 2)
    start = subject.driver.checkpoint()
    shipped = {erp_id: (ref, f"1Z{ref[-10:]}") for erp_id, ref in orders.items()}
    subject.driver.ship(shipped)
    return Expected(start, {ref: {"erp_order_id": erp_id, "shop_reference": ref,
                                  "tracking_number": tracking}
                            for erp_id, (ref, tracking) in shipped.items()},
                    by=lambda change: change.record.shop_reference)


MAKE: dict[str, Callable[[Subject], Expected]] = {
    "stock": stock, "price": price, "product": product, "order_status": order_status,
    "shipment": shipment}
assert set(MAKE) == set(CHANGE_KINDS)


def position(change: Change) -> tuple[dt.datetime, str]:
    return change.ts, change.row_id


def read_pages(erp: ErpAdapter, kind: str, start: Position, limit: int) -> list[list[Change]]:
    pages, (since, after_id) = [], start
    for _ in range(MAX_PAGES):
        page = erp.changes(kind, since, after_id, limit)  # type: ignore[arg-type]
        if not page:
            return pages
        assert position(page[0]) > (since, after_id), "a page repeated the cursor's row"
        pages.append(page)
        since, after_id = position(page[-1])
    raise AssertionError(f"{kind} feed still had pages after {MAX_PAGES}")


@pytest.mark.promise("feed")
@pytest.mark.parametrize("kind", CHANGE_KINDS)
def test_feed_pages_in_keyset_order_without_gaps_or_repeats_at_shared_timestamps(
        subject: Subject, kind: str):
    erp = subject.adapter
    expected = MAKE[kind](subject)

    pages = read_pages(erp, kind, expected.start, limit=1)   # pages of one: every tie is split
    changes = [c for page in pages for c in page]

    assert all(c.kind == kind and position(c) > expected.start for c in changes)
    assert [position(c) for c in changes] == sorted(position(c) for c in changes)
    for before, after in zip(pages, pages[1:]):
        assert position(after[0]) > position(before[-1])    # each page starts after the last
    assert len({c.version for c in changes}) == len(changes), "a change came twice"

    ours = [c for c in changes if expected.identify(c) is not None]
    latest = {expected.identify(c): c for c in ours}
    assert set(latest) == set(expected.want), f"missing {set(expected.want) - set(latest)}"
    for identity, fields in expected.want.items():
        record = latest[identity].record
        assert {name: getattr(record, name) for name in fields} == fields, identity

    shared = Counter(ts for ts, _ in {position(c) for c in ours})
    assert max(shared.values()) >= 2, "the ERP gave our changes no shared timestamp to page through"

    whole = erp.changes(kind, expected.start[0], expected.start[1], 10_000)  # type: ignore[arg-type]
    assert [c.version for c in whole if expected.identify(c) is not None] == \
        [c.version for c in ours], "pages of one and one big page disagree"


@pytest.mark.promise("feed_filtered_by_erp")
def test_feed_transfers_only_rows_changed_since_the_cursor(subject: Subject):
    """The ERP does the filtering: what one poll costs follows what changed, not the history."""
    erp, driver = subject.adapter, subject.driver
    history = driver.new_products(4)
    driver.receive_stock(history, 5)
    cursor = driver.checkpoint()
    (new,) = driver.new_products(1)
    driver.receive_stock([new], 2)
    mark = driver.mark()

    changes = erp.changes("stock", cursor[0], cursor[1], 100)

    assert new in {c.key for c in changes} and not set(history) & {c.key for c in changes}
    older = [ts for ts in driver.row_stamps(mark) if ts < cursor[0]]
    assert older == [], f"the ERP sent {len(older)} rows older than the cursor"


@pytest.mark.promise("stock_snapshot")
def test_stock_snapshot_pages_cover_every_sku_exactly_once(subject: Subject):
    erp, driver = subject.adapter, subject.driver
    skus = driver.new_products(5)
    driver.receive_stock(skus, 4)
    before = driver.stock_skus()
    page_size = max(1, len(before) // 3)           # at least three pages, whatever the ERP holds

    levels, token, pages = [], None, 0
    for _ in range(len(before) + 10):
        page = erp.stock_snapshot(token, page_size)
        assert len(page.levels) <= page_size
        levels += page.levels
        pages += 1
        token = page.next_page
        if token is None:
            break
    else:
        raise AssertionError("the snapshot did not end")
    after = driver.stock_skus()                    # others may add products meanwhile

    seen = [level.sku for level in levels]
    assert pages >= 3
    assert len(seen) == len(set(seen)), "a SKU came twice"
    assert before <= set(seen) <= after
    assert {level.sku: level.quantity for level in levels if level.sku in skus} == {
        sku: Decimal(4) for sku in skus}
