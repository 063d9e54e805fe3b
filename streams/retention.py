"""Which orders the processors may forget (``streams.order_state_days``); pure, unit-tested."""
from __future__ import annotations

from typing import Any, Callable, Iterable


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
