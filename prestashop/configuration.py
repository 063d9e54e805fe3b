"""``ps_configuration`` as PrestaShop reads it, and the order states it names (``PS_OS_*``)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Row = Mapping[str, Any]


def resolve_configuration(rows: Iterable[Row], name: str, id_shop: int, id_shop_group: int) -> str | None:
    """A ps_configuration value as PrestaShop reads it: the shop's row, else its group's, else the
    global one (NULL or 0 scope columns). ``name`` is not unique: the newest row of a scope wins."""
    best: tuple[int, int] | None = None
    value: str | None = None
    for row in rows:
        if row.get("name") != name:
            continue
        row_shop, row_group = row.get("id_shop") or 0, row.get("id_shop_group") or 0
        if row_shop:
            scope = 3 if row_shop == id_shop else 0
        elif row_group:
            scope = 2 if row_group == id_shop_group else 0
        else:
            scope = 1
        rank = (scope, row.get("id_configuration") or 0)
        if scope and (best is None or rank > best):
            best, value = rank, row.get("value")
    return value


def state_ids(rows: Iterable[Row], names: Iterable[str], id_shop: int, id_shop_group: int) -> dict[str, int]:
    """The order-state ids that ``names`` (PS_OS_* keys) resolve to in one shop; names without a
    numeric value are left out."""
    rows = list(rows)
    found: dict[str, int] = {}
    for name in names:
        value = resolve_configuration(rows, name, id_shop, id_shop_group)
        if value is not None and str(value).isdigit():
            found[name] = int(value)
    return found
