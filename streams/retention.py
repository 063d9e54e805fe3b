"""Retention: orders unchanged for ``streams.order_state_days`` are forgotten (their rows, stock
lines, waiting marks and sent-command marks). ``stale_orders`` picks them (pure); ``Retention``
removes them when a partition is asked to (Faust lets only stream processing write tables: the
worker's timer sends each partition it holds a ``prune`` request on the shop-events topic)."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from pssync.streams.clock import Clock, epoch_ms, from_epoch_ms, utc_now
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.outputs import Outputs
from pssync.streams.router import partition_for
from pssync.streams.routes import order_key
from pssync.streams.state import ShopState

log = logging.getLogger(__name__)


def stale_orders(entries: Iterable[tuple[Any, dict[str, Any]]], cutoff_ms: int,
                 owned: Callable[[int], bool]) -> tuple[list[int], list[int]]:
    """Split the orders of one partition (``owned``) into those last changed before ``cutoff_ms``
    (to forget) and those without a change time yet (stored before times were kept: their clock
    starts now, they are never forgotten at once)."""
    forget: list[int] = []
    unstamped: list[int] = []
    for key, entry in entries:
        id_order = int(key)
        if not owned(id_order):
            continue
        changed = entry.get("ts_ms")
        if changed is None:
            unstamped.append(id_order)
        elif int(changed) < cutoff_ms:
            forget.append(id_order)
    return sorted(forget), sorted(unstamped)


class Retention:
    def __init__(self, state: ShopState, orders: OrderAssembly, outputs: Outputs, *, partitions: int,
                 days: float, now: Clock = utc_now) -> None:
        self.state = state
        self.orders = orders
        self.outputs = outputs
        self.partitions = partitions    # streams.partitions: which orders a partition holds
        self.days = days                # streams.order_state_days; 0: keep everything
        self.now = now

    async def ask(self, partitions: Iterable[int]) -> None:
        """Ask each partition (of the shop-events topic) to forget its orders changed before now -
        ``days``. Nothing when retention is off."""
        if not self.days:
            return
        cutoff_ms = epoch_ms(self.now()) - int(self.days * 86_400_000)
        for partition in partitions:
            await self.outputs.to_hub_partition("shop", partition, json.dumps({"cutoff_ms": cutoff_ms}).encode(),
                                                "prune")

    async def on_prune(self, partition: int, request: dict[str, Any]) -> None:
        """Forget this partition's orders last changed before the cutoff: their rows, stock lines,
        waiting marks and sent-command marks (tombstones in the changelogs, so recovery forgets them
        too). Only keys of this partition: a table change goes to the partition being processed."""
        s = self.state
        cutoff_ms = int(request["cutoff_ms"])
        forget, unstamped = stale_orders(
            list(s.orders.items()), cutoff_ms,
            lambda id_order: partition_for(order_key(id_order), self.partitions) == partition)
        for id_order in unstamped:
            s.orders[id_order] = {**s.orders.get(id_order), "ts_ms": epoch_ms(self.now())}
        for id_order in forget:
            self.orders.waiting(id_order, partition, None)
            for key in s.orders.get(id_order).get("sent", ()):
                if key in s.emitted:
                    del s.emitted[key]
            for table in (s.orders, s.details, s.history, s.order_stock):
                if id_order in table:
                    del table[id_order]
        if forget:
            log.info("partition %d: forgot %d order(s) unchanged since %s", partition, len(forget),
                     from_epoch_ms(cutoff_ms).isoformat())
