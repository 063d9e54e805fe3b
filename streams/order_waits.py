"""Orders that cannot go out are made visible within ``streams.order_wait_timeout_s``.

An order waits for rows (its own header, lines or history; a customer, address, currency or
configuration row) and goes out when the last one arrives (streams.orders_hub). If one never comes,
the order would wait silently for ever. ``OrderWaits`` keeps one entry per waiting order in the
``order-waits`` table (id_order -> when it started waiting and on which partition), cleared when the
order goes out or stops waiting; so a sweep only looks at orders that wait, never at every order.

The worker's timer asks each partition it holds to sweep (Faust lets only stream processing write
tables; like retention's ``prune``): an order of that partition waiting longer than the timeout is
dead-lettered once per reason (the reason names what it waits for), alerted (``order_waiting`` on the
alerts topic) and counted (``stats``). It still waits: when the missing rows arrive it goes out with
the command id it would have had. Time comes from the injected clock.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from pssync.streams.clock import Clock, epoch_ms, utc_now
from pssync.streams.orders import lines_incomplete
from pssync.streams.outputs import Outputs
from pssync.streams.state import ShopState

if TYPE_CHECKING:
    from pssync.streams.orders_hub import OrderAssembly

log = logging.getLogger(__name__)

SWEEP_KIND = "order-waits"          # the request a partition gets on the shop-events topic


@dataclass
class WaitStats:
    """What the worker reports (named; Prometheus may export them later)."""
    order_wait_dead_letters_total: int = 0   # dead letters sent by the sweep since start
    late_by_partition: dict[int, int] = field(default_factory=dict)   # at each partition's last sweep

    @property
    def orders_waiting_too_long(self) -> int:
        """Orders of this worker's partitions waiting longer than the timeout, as last swept."""
        return sum(self.late_by_partition.values())


def awaited(state: ShopState, id_order: int, partition: int) -> str:
    """What the order still lacks, in words naming the rows (pure: read from the tables)."""
    s, refs = state, state.refs
    entry, lines, hist = s.orders.get(id_order), s.details.get(id_order, {}), s.history.get(id_order, {})
    lacking: list[str] = []
    if entry is None:
        lacking.append(f"its ps_orders row (id_order {id_order})")
    if not lines:
        lacking.append("its ps_order_detail rows (no lines)")
    if not hist:
        lacking.append("its ps_order_history rows")
    if entry is None:
        return ", ".join(lacking)
    order = entry["row"]
    if lines and lines_incomplete(order, list(lines.values())):
        total = sum(line.get("total_price_tax_excl") or 0 for line in lines.values())
        lacking.append(f"more ps_order_detail rows (the {len(lines)} line(s) seen add up to {total}, "
                       f"total_products is {order.get('total_products')})")
    for column, what in (("id_address_delivery", "delivery address"), ("id_address_invoice", "invoice address")):
        if refs.get(partition, "address", order[column]) is None:
            lacking.append(f"ps_address {order[column]} ({what})")
    if refs.get(partition, "customer", order["id_customer"]) is None:
        lacking.append(f"ps_customer {order['id_customer']}")
    if order["id_currency"] not in (refs.get(partition, "currency") or {}):
        lacking.append(f"ps_currency {order['id_currency']}")
    if not refs.get(partition, "configuration"):
        lacking.append("the ps_configuration rows")
    # everything is there yet it waits: the configuration does not tell its state's PS_OS_* name
    return ", ".join(lacking) or "ps_configuration rows naming its state"


class OrderWaits:
    def __init__(self, state: ShopState, outputs: Outputs, *, timeout_s: float, now: Clock = utc_now) -> None:
        if timeout_s <= 0:
            raise ValueError(f"order wait timeout must be > 0, not {timeout_s}")
        self.state = state
        self.outputs = outputs
        self.timeout_s = timeout_s          # streams.order_wait_timeout_s
        self.now = now
        self.stats = WaitStats()
        self.assembly: OrderAssembly | None = None     # set by OrderAssembly: dead letters go through it

    # ---- hooks (streams.orders_hub.OrderAssembly.try_emit) -------------------------------------------
    def waits(self, id_order: int, partition: int) -> None:
        """The order cannot go out yet: its clock starts now, unless it is already running."""
        if id_order not in self.state.waits:
            self.state.waits[id_order] = {"since_ms": epoch_ms(self.now()), "partition": partition}

    def done(self, id_order: int) -> None:
        """The order went out, or waits for nothing (it is sent, asks nothing, or is dead-lettered)."""
        if id_order in self.state.waits:
            del self.state.waits[id_order]

    # ---- the sweep -----------------------------------------------------------------------------------
    async def ask(self, partitions: Iterable[int]) -> None:
        """Ask each partition (of the shop-events topic, held by this worker) to sweep its waiting orders."""
        for partition in partitions:
            await self.outputs.to_hub_partition("shop", partition, json.dumps({}).encode(), SWEEP_KIND)

    async def on_sweep(self, partition: int, request: dict[str, Any]) -> None:
        """Report the partition's orders waiting longer than the timeout (once per reason)."""
        s = self.state
        now_ms = epoch_ms(self.now())
        late = 0
        for key, wait in list(s.waits.items()):
            id_order = int(key)
            if int(wait["partition"]) != partition:
                continue
            if id_order not in s.orders and id_order not in s.details and id_order not in s.history:
                self.done(id_order)        # forgotten by retention meanwhile
                continue
            waited_s = (now_ms - int(wait["since_ms"])) / 1000
            if waited_s < self.timeout_s:
                continue
            late += 1
            reason = f"waiting for {awaited(s, id_order, partition)} for longer than {self.timeout_s:g} s"
            if reason in wait.get("reported", ()):
                continue
            log.warning("order %d: %s", id_order, reason)
            assert self.assembly is not None
            await self.assembly.dead_letter_order(id_order, reason, {"waiting_since_ms": int(wait["since_ms"])})
            await self.outputs.alert(f"order:{id_order}", {
                "kind": "order_waiting", "id_order": id_order, "reason": reason, "at": self.now()})
            self.stats.order_wait_dead_letters_total += 1
            s.waits[id_order] = {**wait, "reported": sorted({*wait.get("reported", ()), reason})}
        self.stats.late_by_partition[partition] = late
