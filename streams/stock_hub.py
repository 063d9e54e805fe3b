"""The stock processor: one StockBook per shop product (its combinations together), fed by the
stock-events topic partitioned by product (streams.routes): ERP levels, every shop order line,
cancellations and ERP acknowledgements (resolved to the product by the shop-events processor,
streams.erp_values and streams.stock_facts), the product mapping and the shop's own stock rows.
Each change publishes a StockCommand for the SKUs whose value changed, with the orders the book
knows of, so the sink can subtract orders it never saw (see sinks/prestashop_db.py).

Reconciliation: the shop's own stock changes (checkouts, back-office edits; never our sink's
writes, which carry the echo marker) are compared with the computed value once the order lines of
the same checkout have had time to arrive: small unambiguous drift is corrected, larger drift
alerts a person.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any, Callable

from pssync.streams.clock import Clock, from_epoch_ms, utc_now
from pssync.streams.outputs import Outputs
from pssync.streams.shop_commands import stock_command
from pssync.streams.state import StockState
from pssync.streams.stock import SentStock, StockBook, reconcile

log = logging.getLogger(__name__)
SENT_KEPT = 20       # commands of a SKU kept while the sink's echo has not shown one of them applied


class StockHub:
    def __init__(self, state: StockState, outputs: Outputs, *, id_shop: int, guard_window_s: float,
                 reconcile_delay_s: float, drift_threshold: int, now: Clock = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.state = state
        self.outputs = outputs
        self.id_shop = id_shop
        self.guard_window_s = guard_window_s        # sinks.stock_guard_window_s
        self.reconcile_delay_s = reconcile_delay_s  # streams.stock_reconcile_delay_s
        self.drift_threshold = drift_threshold      # streams.stock_drift_threshold
        self.now = now
        self.monotonic = monotonic
        # sku -> (id_product, monotonic time to compare at); in memory: a restart forgets pending
        # comparisons, the next shop change schedules one again
        self.due: dict[str, tuple[int, float]] = {}

    # ---- the product's SKUs ------------------------------------------------------------------------
    # product_skus[id_product]: {sku: id_product_attribute}, or {sku: None} for a SKU taken off the
    # product (its mapping deleted, or moved to another product/SKU): stock facts of it still on
    # their way are stale and ignored, they must not bring it back.
    def skus_of(self, id_product: int) -> dict[str, int | None]:
        """The product's SKUs, one per row: should two name one row (state left by an earlier
        version), the later one holds it."""
        skus = dict(self.state.product_skus.get(id_product, {}))
        holders: dict[int, str] = {}
        for sku, attribute in list(skus.items()):
            if attribute is None:
                continue
            if (other := holders.get(attribute)) is not None:
                skus[other] = None
            holders[attribute] = sku
        return skus

    def adopt(self, id_product: int, skus: dict[str, int | None], sku: str, attribute: int) -> bool:
        """Map ``sku`` to (id_product, attribute) in ``skus``; a SKU that held that row is taken off.
        False when it was mapped so already."""
        if skus.get(sku, -1) == attribute:
            return False
        for other, held in list(skus.items()):
            if other != sku and held == attribute:
                self.retire(skus, other)
                log.info("stock %s: no longer product %d/%d's SKU (now %s)", other, id_product, attribute, sku)
        skus[sku] = attribute
        # what was published, sent or seen under this SKU concerned another row (or none): start afresh
        for table in (self.state.published, self.state.sent, self.state.shop_stock):
            if sku in table:
                del table[sku]
        self.due.pop(sku, None)
        return True

    def retire(self, skus: dict[str, int | None], sku: str) -> None:
        skus[sku] = None
        self.due.pop(sku, None)

    def book_for(self, id_product: int) -> StockBook:
        """The product's book with exactly its mapped SKUs: a SKU taken off it leaves the book with its
        ERP levels and order lines (StockBook.unmap_sku)."""
        rows = {sku: (id_product, attribute) for sku, attribute in self.skus_of(id_product).items()
                if attribute is not None}
        stored = self.state.books.get(id_product)
        book = StockBook() if stored is None else StockBook.from_json(stored)
        held = book.rows()
        if held != rows:
            for sku in held:
                if sku not in rows:
                    book.unmap_sku(sku)
            book.remap(rows)
        return book

    def event_book(self, id_product: int, sku: str, attribute: int) -> StockBook | None:
        """The book for a stock fact of (sku, attribute): the pair counts as mapped even if the
        mapping row itself is still on its way; None when the SKU was taken off the product (the
        fact is stale: it was resolved before the mapping changed)."""
        skus = self.skus_of(id_product)
        if sku in skus and skus[sku] is None:
            log.info("stock %s: no longer mapped to product %d; a stale stock fact is ignored", sku, id_product)
            return None
        if self.adopt(id_product, skus, sku, attribute):
            self.state.product_skus[id_product] = skus
        return self.book_for(id_product)

    async def publish(self, book: StockBook, id_product: int, skus: set[str], trigger: str,
                      force: bool = False) -> None:
        s = self.state
        now = self.now()
        since = now - dt.timedelta(seconds=self.guard_window_s)
        book.forget_orders(since - dt.timedelta(hours=1))
        s.books[id_product] = book.to_json()
        for sku in sorted(skus):
            result = book.publish(sku)
            if result is None:
                continue
            if not force and s.published.get(sku) == result.quantity:
                continue
            command = stock_command(result, trigger, self.id_shop, book.known_orders(sku, since), since, now)
            await self.outputs.shop_command(command)
            s.published[sku] = result.quantity
            sent = [*s.sent.get(sku, []), SentStock(result.quantity, result.available, result.as_of,
                                                   book.counted(sku)).to_json()]
            s.sent[sku] = sent[-SENT_KEPT:]
            if result.shortfall:
                log.warning("stock %s: shop promised %d more than the ERP covers", sku, result.shortfall)
            log.info("stock %s -> %d (%s)", sku, result.quantity, trigger)

    # ---- events, by kind ---------------------------------------------------------------------------
    async def on_mapping(self, id_product: int, event: dict[str, Any] | None) -> None:
        """A pssync_product_map change event (Avro, as captured), routed to the product of its row
        (of both rows when an update moved it to another product): a SKU the row loses is taken off
        the product, the SKU it gets mapped."""
        if event is None:
            return
        before, after = event["before"], event["after"]
        skus = self.skus_of(id_product)
        changed = False
        if before is not None and int(before["id_product"]) == id_product and (
                after is None or _pair(before) != _pair(after)):
            sku, attribute = before["sku"], int(before["id_product_attribute"])
            if skus.get(sku, attribute) == attribute:   # not since mapped to another of its rows
                self.retire(skus, sku)
                changed = True
                log.info("stock %s: no longer product %d/%d's SKU", sku, id_product, attribute)
        if after is not None and int(after["id_product"]) == id_product:
            changed |= self.adopt(id_product, skus, after["sku"], int(after["id_product_attribute"]))
        if changed or id_product not in self.state.product_skus:
            self.state.product_skus[id_product] = skus

    async def on_level(self, id_product: int, e: dict[str, Any]) -> None:
        book = self.event_book(id_product, e["sku"], e["attribute"])
        if book is None:
            return
        affected = book.erp_level(e["sku"], Decimal(e["quantity"]), dt.datetime.fromisoformat(e["as_of"]),
                                  e["mode"], e["snapshot_id"])
        await self.publish(book, id_product, affected, e["trigger"], force=e["mode"] == "snapshot")

    async def on_line(self, id_product: int, e: dict[str, Any]) -> None:
        book = self.event_book(id_product, e["sku"], e["attribute"])
        if book is None:
            return
        affected = book.order_placed(str(e["id_order"]), e["sku"], Decimal(e["quantity"]),
                                     from_epoch_ms(e["placed_ms"]))
        if e["cancelled"]:
            affected |= book.order_cancelled(str(e["id_order"]))
        await self.publish(book, id_product, affected, e["trigger"])

    async def on_cancel(self, id_product: int, e: dict[str, Any]) -> None:
        book = self.book_for(id_product)
        await self.publish(book, id_product, book.order_cancelled(str(e["id_order"])), e["trigger"])

    async def on_reinstate(self, id_product: int, e: dict[str, Any]) -> None:
        book = self.book_for(id_product)
        await self.publish(book, id_product, book.order_reinstated(str(e["id_order"])), e["trigger"])

    async def on_ack(self, id_product: int, e: dict[str, Any]) -> None:
        book = self.book_for(id_product)
        affected = book.order_acknowledged(str(e["id_order"]), dt.datetime.fromisoformat(e["acked_at"]))
        await self.publish(book, id_product, affected, e["trigger"])

    async def on_shop_row(self, id_product: int, e: dict[str, Any]) -> None:
        sku = e["sku"]
        self.state.shop_stock[sku] = [int(e["quantity"]), e["gtid"]]
        if e["echo"]:
            self.due.pop(sku, None)          # our own write: the value we computed
            self.sink_applied(id_product, sku, int(e["quantity"]))
        elif e["op"] in ("c", "u"):
            self.due[sku] = (id_product, self.monotonic() + self.reconcile_delay_s)

    # ---- reconciliation ----------------------------------------------------------------------------
    def sink_applied(self, id_product: int, sku: str, quantity: int) -> None:
        """The sink wrote ``quantity``: the newest command that explains it is applied, older ones are
        done with. None explains it (an order the book has not seen yet): all are kept."""
        sent = [SentStock.from_json(c) for c in self.state.sent.get(sku, [])]
        if not sent:
            return
        book = self.book_for(id_product)
        for index in range(len(sent) - 1, -1, -1):
            if book.shop_expected(sku, sent[index]) == quantity:
                if index:
                    self.state.sent[sku] = [c.to_json() for c in sent[index:]]
                return

    def explained(self, book: StockBook, sku: str, computed: int) -> list[int]:
        """What the shop may rightly show now: the value under each command the sink may be applying
        (from the last one its echo showed), and the computed value."""
        return [*(book.shop_expected(sku, SentStock.from_json(c)) for c in self.state.sent.get(sku, [])), computed]

    async def schedule_due(self) -> None:
        """The SKUs whose comparison is due, as stock.reconcile events to their product's partition
        (run by the worker's timer: Faust lets only stream iteration write tables)."""
        now = self.monotonic()
        for sku, (id_product, at) in [(s, d) for s, d in self.due.items() if d[1] <= now]:
            self.due.pop(sku, None)
            try:
                await self.outputs.stock_event(id_product, "stock.reconcile", sku=sku)
            except Exception:  # the timer must never take the worker down; the next change retries
                log.exception("stock %s: could not schedule the comparison", sku)

    async def on_reconcile(self, id_product: int, e: dict[str, Any]) -> None:
        s = self.state
        sku = e["sku"]
        seen, attribute = s.shop_stock.get(sku), s.product_skus.get(id_product, {}).get(sku)
        if seen is None or attribute is None:
            return
        book = self.book_for(id_product)
        computed = book.publish(sku)
        if computed is None:
            return                       # no ERP level yet: nothing to compare with
        # judged against what the sink has applied: while it is behind (a published command not yet
        # written), the shop rightly shows the value under an earlier command, which is not drift
        shop_quantity = int(seen[0])
        candidates = self.explained(book, sku, computed.quantity)
        if shop_quantity in candidates and shop_quantity != computed.quantity:
            log.info("stock %s: shop %d is the value of a command the sink has not replaced yet (computed %d)",
                     sku, shop_quantity, computed.quantity)
            return
        nearest = min(candidates, key=lambda c: (abs(c - shop_quantity), c != computed.quantity))
        result = reconcile(shop_quantity, dataclasses.replace(computed, quantity=nearest), self.drift_threshold)
        if result.action == "correct":
            log.info("stock %s: %s; correcting to %d", sku, result.reason, computed.quantity)
            await self.publish(book, id_product, {sku}, f"reconcile:{sku}:{seen[1]}", force=True)
        elif result.action == "alert":
            log.warning("stock %s: %s (shop %d, computed %d): alerting", sku, result.reason,
                        result.shop_quantity, result.computed)
            await self.outputs.alert(sku, {
                "kind": "stock_drift", "sku": sku, "id_product": id_product, "id_product_attribute": attribute,
                "shop_quantity": result.shop_quantity, "computed": result.computed, "delta": result.delta,
                "reason": result.reason, "shop_gtid": seen[1], "erp_as_of": computed.as_of,
                "at": self.now()})
        elif result.action == "defer":
            self.due[sku] = (id_product, self.monotonic() + self.reconcile_delay_s)


def _pair(row: dict[str, Any]) -> tuple[str, int, int]:
    return row["sku"], int(row["id_product"]), int(row["id_product_attribute"])
