"""Shop orders -> ERP sales-order commands (on the shop-events stream, partitioned by order).

An order is built once its header, its lines (adding up to the order's total) and its first
history row have arrived and the rows it refers to are known. Each change of what its state asks
of the ERP (create, cancel, create again) is one command, sent once and in order (the commands
topic is keyed by the order's shop reference); its command id is deterministic (see
:func:`source_event_id`), and ``emitted`` keeps a command from being sent twice. Reference rows (customers, addresses,
currencies, configuration) arrive on every partition and are kept once per partition
(``References``), so every lookup is answered from the partition being processed. An order
waits for what it lacks: reference rows (``pending``; retried only when one of the rows it waits
for arrives, see ``RowWaits``) or the SKU of a line's product (``unmapped``, retried when the
product is mapped). Orders that cannot be mapped go to the dead-letter topic with the reason (once).
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from pssync.schemas.sales_order import ErpAction
from pssync.streams.orders import (POSITION_FIELD, ConfigurationIncomplete, OrderMapping, OrderRows,
                                   ProductNotMapped, Unmappable, binlog_position, build_command,
                                   lines_incomplete, order_action)
from pssync.streams.order_waits import OrderWaits
from pssync.streams.outputs import Outputs
from pssync.streams.state import ShopState, Table

log = logging.getLogger(__name__)


def source_event_id(origin: str, action: ErpAction, rank: int) -> str:
    """What an order's command stems from. ``origin``: the GTID of the transaction that created the
    order ("snapshot" when it was first read by a snapshot); ``rank``: how many commands of the order
    went out before. The first create keeps the bare GTID (a re-read order gives the same command id);
    a cancel, or a create after a cancel, is the order's rank-th change of action."""
    return origin if rank == 0 and action == "create" else f"{origin}:{action}:{rank + 1}"


def last_action(entry: dict[str, Any]) -> tuple[ErpAction | None, int]:
    """The action of the order's last command and how many went out."""
    action = entry.get("action")
    if action is None and any(not key.startswith("dead-letter:") for key in entry.get("sent", ())):
        return "create", 1        # kept before actions were recorded: only creates were sent then
    return action, int(entry.get("commands", 0))


Wait = tuple[str, Any]      # a row an order waits for: ("customer", 5), ("address", 7), ("currency", 1),
                            # ("configuration", "*"): any row (there are none yet),
                            # ("configuration", STATE_KEYS): a row named by one of the mapping's PS_OS_* keys
STATE_KEYS = "PS_OS_*"


class RowWaits:
    """Orders waiting for reference rows, indexed by the row: (partition, what, id) -> {id_order}.

    Derived, in memory: ``pending`` (a table) says which orders wait for reference rows, this says for
    which rows, so that a row arriving retries only its own orders instead of every waiting order of
    the partition. Not kept in a table: one row (the configuration) may be awaited by every order of a
    backlog, and a table value is written whole to its changelog on each change. After a restart or a
    rebalance the index of a partition is rebuilt at the first reference row it gets, by trying every
    ``pending`` order of the partition once (``stale``)."""

    def __init__(self) -> None:
        self.by_row: dict[tuple[int, str, Any], set[int]] = {}
        self.of_order: dict[int, tuple[int, tuple[Wait, ...]]] = {}   # id_order -> (partition, its waits)
        self.fresh: set[int] = set()         # partitions whose index holds every pending order of theirs

    def set(self, id_order: int, partition: int, waits: Iterable[Wait]) -> None:
        """What the order now waits for (nothing: it no longer waits for reference rows)."""
        new = tuple(dict.fromkeys(waits))
        old = self.of_order.get(id_order)
        if old == (partition, new):
            return
        if old is not None:
            for what, key in old[1]:
                orders = self.by_row.get((old[0], what, key))
                if orders is not None:
                    orders.discard(id_order)
                    if not orders:
                        del self.by_row[(old[0], what, key)]
            del self.of_order[id_order]
        if new:
            self.of_order[id_order] = (partition, new)
            for what, key in new:
                self.by_row.setdefault((partition, what, key), set()).add(id_order)

    def waiting_for(self, partition: int, what: str, key: Any) -> list[int]:
        """The orders of the partition waiting for that row, in id order."""
        return sorted(self.by_row.get((partition, what, key), ()))

    def stale(self, partition: int) -> bool:
        """True once per partition (until ``forget``): its index must be rebuilt from ``pending``."""
        if partition in self.fresh:
            return False
        self.fresh.add(partition)
        return True

    def forget(self) -> None:
        """Partitions moved (a rebalance): every partition's index is rebuilt when next needed."""
        self.by_row.clear()
        self.of_order.clear()
        self.fresh.clear()


class OrderAssembly:
    def __init__(self, state: ShopState, mapping: OrderMapping, outputs: Outputs,
                 waits: OrderWaits | None = None) -> None:
        self.state = state
        self.refs = state.refs
        self.mapping = mapping
        self.outputs = outputs
        # orders that wait too long are reported (streams.order_waits); default timeout 5 minutes
        self.waits = waits or OrderWaits(state, outputs, timeout_s=300)
        self.waits.assembly = self
        self.row_waits = RowWaits()
        # (partition, "currency" | "configuration") -> (the value as stored, decoded), decoded once per
        # change, not per order; and the ps_configuration rows an order's command can use (its
        # PS_OS_* keys, the default currency), so states are resolved over those, not over the
        # shop's hundreds of rows
        self._collections: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._used_configuration: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        self._used_names = {*mapping.states, "PS_CURRENCY_DEFAULT"}

    # ---- events ----------------------------------------------------------------------------------
    async def on_order(self, partition: int, event: dict[str, Any] | None) -> None:
        """A ps_orders change event."""
        row = None if event is None else event["after"]
        if row is None:
            return
        orders = self.state.orders
        known = orders.get(row["id_order"])
        orders[row["id_order"]] = {**(known or {}), "row": row, "ts_ms": event["source"]["ts_ms"],
                                   "gtid": (known or {}).get("gtid") or event["source"].get("gtid"),
                                   "pos": binlog_position(event["source"])}
        await self.try_emit(row["id_order"], partition)

    async def on_order_detail(self, partition: int, event: dict[str, Any] | None) -> None:
        await self._keep_order_row(partition, event, self.state.details, "id_order_detail")

    async def on_order_history(self, partition: int, event: dict[str, Any] | None) -> None:
        """A state change: kept with where it was in the binlog, which tells it from the order's
        ps_orders update (streams.orders.effective_state)."""
        if event is not None and event["after"] is not None:
            event = {**event, "after": {**event["after"], POSITION_FIELD: binlog_position(event["source"])}}
        await self._keep_order_row(partition, event, self.state.history, "id_order_history")

    async def _keep_order_row(self, partition: int, event: dict[str, Any] | None, table: Table,
                              id_column: str) -> None:
        """Keep a row of one of an order's child tables (lines, history) and try the order again."""
        row = None if event is None else event["after"]
        if row is not None:
            rows = table.get(row["id_order"], {})
            rows[row[id_column]] = row
            table[row["id_order"]] = rows
            await self.try_emit(row["id_order"], partition)

    async def on_reference(self, partition: int, event: dict[str, Any] | None, table: str, key: str) -> None:
        """A row orders refer to one by one (customer, address), kept by its id."""
        row = None if event is None else event["after"]
        if row is not None:
            self.refs.set(partition, row, table, row[key])
            await self.retry_waiting(partition, [(table, row[key])])

    async def on_collection(self, partition: int, event: dict[str, Any] | None, table: str, key: str) -> None:
        """Tables read whole (currencies, configuration): one entry per partition holding every row."""
        row = None if event is None else event["after"]
        if row is not None:
            rows = dict(self.collection(partition, table))
            rows[row[key]] = row
            self.refs.set(partition, rows, table)
            arrived: list[Wait] = [(table, row[key])]
            if table == "configuration":
                arrived = [(table, "*")] + ([(table, STATE_KEYS)] if row.get("name") in self.mapping.states else [])
            await self.retry_waiting(partition, arrived)

    def collection(self, partition: int, table: str) -> dict[Any, Any]:
        """A table read whole (currencies, configuration) as the partition holds it; do not change it.
        Decoded again only when what is stored changed."""
        stored = self.refs.stored(partition, table)
        found = self._collections.get((partition, table))
        if found is None or found[0] is not stored:
            found = self._collections[(partition, table)] = (stored, self.refs.get(partition, table) or {})
        return found[1]

    def used_configuration(self, partition: int) -> list[dict[str, Any]]:
        """The partition's ps_configuration rows that commands read (streams.orders: the mapped PS_OS_*
        keys and PS_CURRENCY_DEFAULT); resolving over these gives what resolving over all gives."""
        stored = self.refs.stored(partition, "configuration")
        found = self._used_configuration.get(partition)
        if found is None or found[0] is not stored:
            rows = [row for row in self.collection(partition, "configuration").values()
                    if row.get("name") in self._used_names]
            found = self._used_configuration[partition] = (stored, rows)
        return found[1]

    def forget_cache(self) -> None:
        """The tables may have changed under this process (a rebalance moved partitions): what orders
        wait for is indexed again."""
        self.row_waits.forget()

    # ---- building the command ------------------------------------------------------------------------
    async def try_emit(self, id_order: int, partition: int) -> None:
        s, refs = self.state, self.refs
        entry = s.orders.get(id_order)
        lines, hist = s.details.get(id_order, {}), s.history.get(id_order, {})
        if entry is None or not lines or not hist:
            self.waiting(id_order, partition, None)     # its header, a line or its history is on its way
            self.waits.waits(id_order, partition)
            return
        order = entry["row"]
        if lines_incomplete(order, list(lines.values())):
            self.waiting(id_order, partition, None)     # more lines of this order are on their way
            self.waits.waits(id_order, partition)
            return
        found = [refs.get(partition, "address", order["id_address_delivery"]),
                 refs.get(partition, "address", order["id_address_invoice"]),
                 refs.get(partition, "customer", order["id_customer"])]
        currencies = self.collection(partition, "currency")
        configuration = self.collection(partition, "configuration")
        if any(r is None for r in found) or order["id_currency"] not in currencies or not configuration:
            missing: list[Wait] = [w for w, r in zip((("address", order["id_address_delivery"]),
                                                      ("address", order["id_address_invoice"]),
                                                      ("customer", order["id_customer"])), found) if r is None]
            if order["id_currency"] not in currencies:
                missing.append(("currency", order["id_currency"]))
            if not configuration:
                missing.append(("configuration", "*"))
            self.waiting(id_order, partition, missing)
            self.waits.waits(id_order, partition)
            return
        rows = OrderRows(order=order, details=list(lines.values()), history=list(hist.values()),
                         addresses=[found[0], found[1]], customer=found[2], currencies=list(currencies.values()),
                         configuration=self.used_configuration(partition))
        position = entry.get("pos")
        try:
            action = order_action(rows, self.mapping, position)
            last, rank = last_action(entry)
            if action is None or action == last:      # nothing asked, or asked and sent already
                self.waiting(id_order, partition, None)
                self.waits.done(id_order)
                return
            source = source_event_id(entry["gtid"] or "snapshot", action, rank)
            command = build_command(rows, self.mapping, lambda p, a: refs.sku(partition, p, a), source, position)
        except ConfigurationIncomplete:     # a ps_configuration row of a PS_OS_* key may tell its state
            self.waiting(id_order, partition, [("configuration", STATE_KEYS)])
            self.waits.waits(id_order, partition)
            return
        except ProductNotMapped as exc:
            # dead-lettered (once) with the reason, and kept waiting: the mapping row may come after the
            # order (the router does not order topics), or be loaded later; then the command goes out
            await self.dead_letter_order(id_order, exc.reason, exc.record)
            self.waits.done(id_order)      # visible already: dead-lettered naming the product
            self.waiting(id_order, partition, sorted({int(line["product_id"]) for line in lines.values()
                                                      if refs.line_sku(partition, int(line["product_id"]),
                                                                       int(line.get("product_attribute_id") or 0))
                                                      is None}))
            return
        except Unmappable as exc:
            await self.dead_letter_order(id_order, exc.reason, exc.record)
            self.waiting(id_order, partition, None)
            self.waits.done(id_order)
            return
        except Exception as exc:  # bad input never stops the processor: it is parked with the reason
            log.exception("order %s could not be processed", id_order)
            await self.dead_letter_order(id_order, f"{type(exc).__name__}: {exc}", {"id_order": id_order})
            self.waiting(id_order, partition, None)
            self.waits.done(id_order)
            return
        self.waiting(id_order, partition, None)
        self.waits.done(id_order)
        if command is None:
            return
        if not s.emitted.get(str(command.command_id), False):
            await self.outputs.sales_order(command)
            log.info("order %s: %s command %s", id_order, command.erp_action, command.command_id)
        key = str(command.command_id)      # as mark_sent, with the action in the same write
        s.emitted[key] = True
        entry = s.orders.get(id_order)
        s.orders[id_order] = {**entry, "sent": sorted({*entry.get("sent", ()), key}), "action": command.erp_action,
                              "commands": rank + 1}

    async def dead_letter_order(self, id_order: int, reason: str, record: Any) -> None:
        key = f"dead-letter:{id_order}:{reason}"
        if self.state.emitted.get(key, False):
            return
        await self.outputs.dead_letter_order(id_order, reason, record)
        self.mark_sent(id_order, key)

    def mark_sent(self, id_order: int, key: str) -> None:
        """A command or dead letter is out: never again for the same key (kept with the order, so that
        the mark is forgotten with it)."""
        s = self.state
        s.emitted[key] = True
        entry = s.orders.get(id_order)
        if entry is not None:
            s.orders[id_order] = {**entry, "sent": sorted({*entry.get("sent", ()), key})}

    # ---- what orders wait for --------------------------------------------------------------------------
    def waiting(self, id_order: int, partition: int, what: list[Wait] | list[int] | None) -> None:
        """Record what an order waits for: reference rows (a list of ``Wait``: retried when one of
        them arrives), the products of its lines that have no SKU (a list of product ids: retried when
        one of them is mapped), or None: nothing, or only rows of its own (header, lines, history),
        whose arrival tries it again anyway."""
        s = self.state
        rows = [w for w in what if isinstance(w, tuple)] if isinstance(what, list) else []
        if rows:
            if s.pending.get(id_order) != partition:
                s.pending[id_order] = partition
        elif id_order in s.pending:        # Faust tables' pop() raises even with a default
            del s.pending[id_order]
        self.row_waits.set(id_order, partition, rows)
        what = [w for w in what if not isinstance(w, tuple)] if isinstance(what, list) else what
        entry = s.orders.get(id_order)
        if entry is None:
            return
        awaits = entry.get("awaits")
        awaited = {awaits} if isinstance(awaits, int) else set(awaits or ())
        products = set(what) if isinstance(what, list) else set()
        if awaited == products:
            return
        for product in awaited - products:
            key = self.refs.key(partition, product)
            if rest := [o for o in s.unmapped.get(key, []) if o != id_order]:
                s.unmapped[key] = rest
            elif key in s.unmapped:
                del s.unmapped[key]
        for product in products - awaited:
            key = self.refs.key(partition, product)
            s.unmapped[key] = sorted({*s.unmapped.get(key, []), id_order})
        s.orders[id_order] = {**entry, "awaits": sorted(products)}

    async def retry_waiting(self, partition: int, arrived: Iterable[Wait]) -> None:
        """Rows arrived: try again the orders of the partition waiting for one of them (each once).
        The first time in this process (or after a rebalance), every order of the partition waiting
        for reference rows is tried, which indexes them (``RowWaits``)."""
        if self.row_waits.stale(partition):
            tried = [int(o) for o, p in list(self.state.pending.items()) if p == partition]
        else:
            tried = sorted({o for what, key in arrived for o in self.row_waits.waiting_for(partition, what, key)})
        for id_order in tried:
            await self.try_emit(id_order, partition)

    def awaiting_product(self, partition: int, id_product: int) -> list[int]:
        """The orders of the partition with a line of the product that had no SKU."""
        return list(self.state.unmapped.get(self.refs.key(partition, id_product), []))
