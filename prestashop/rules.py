"""PrestaShop's own rules that pssync must follow wherever it computes or writes shop data."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# An order in one of these states gives its units back to stock (PrestaShop's OrderHistory).
CANCELLED_STATES: tuple[str, ...] = ("PS_OS_CANCELED", "PS_OS_ERROR")


def shop_owned_state(shop_states: Iterable[int | None], owned: Iterable[int], target: int) -> int | None:
    """The shop-owned state that keeps an ERP state ``target`` off the order, or None when the ERP
    may set it. ``shop_states``: the order's ``current_state`` and the state of its newest history
    row (PrestaShop writes them as two statements: either may already tell the shop's change)."""
    owned = set(owned)
    return next((state for state in shop_states if state is not None and state in owned and state != target),
                None)


def product_level(values: Iterable[int]) -> int:
    """The id_product_attribute=0 row of a product with combinations: the sum of its combination
    rows (what StockAvailable::postSave writes)."""
    return sum(values)


def product_level_row(rows: Iterable[Mapping[str, Any]]) -> tuple[int, int, int]:
    """(quantity, reserved, physical) of the product-level ps_stock_available row, summed over the
    combination rows among ``rows`` (the product-level row itself is ignored)."""
    combos = [r for r in rows if int(r["id_product_attribute"]) != 0]
    return (product_level(int(r["quantity"]) for r in combos),
            product_level(int(r["reserved_quantity"]) for r in combos),
            product_level(int(r["physical_quantity"]) for r in combos))
