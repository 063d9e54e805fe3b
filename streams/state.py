"""The processors' state: the tables each hub keeps and what they hold.

In the worker every table is a changelog-backed Faust table (``ExactTable``, streams.app) whose
name makes its changelog topic's name (``<app id>-<name>-changelog``): the names below must not
change, or a restarted worker would not find its state. Handlers use only the dict operations of
``Table``, so plain dicts stand in for the tables in unit tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from pssync.streams.orders import line_sku


class Table(Protocol):
    """What handlers use of a table (an ExactTable or a dict); no defaults: ``get(key, default)``."""

    def get(self, key: Any, default: Any = None) -> Any: ...

    def __setitem__(self, key: Any, value: Any) -> None: ...

    def __contains__(self, key: Any) -> bool: ...

    def __delitem__(self, key: Any) -> None: ...

    def items(self) -> Iterable[tuple[Any, Any]]: ...


class References:
    """Rows every partition may look up, kept once per partition: "<partition>|<what>|<id>"."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def key(partition: int, *parts: Any) -> str:
        return "|".join(str(p) for p in (partition, *parts))

    def get(self, partition: int, *parts: Any) -> Any:
        return self.table.get(self.key(partition, *parts))

    def stored(self, partition: int, *parts: Any) -> Any:
        """The value as the table holds it (an ExactTable's encoded text, a dict's value): the same
        object until the key is set again, so a decoded copy can be kept while it is."""
        return getattr(self.table, "stored", self.table.get)(self.key(partition, *parts))

    def set(self, partition: int, value: Any, *parts: Any) -> None:
        self.table[self.key(partition, *parts)] = value

    def delete(self, partition: int, *parts: Any) -> None:
        if self.key(partition, *parts) in self.table:
            del self.table[self.key(partition, *parts)]

    def sku(self, partition: int, id_product: int, id_product_attribute: int) -> str | None:
        return self.get(partition, "sku", int(id_product), int(id_product_attribute))

    def row(self, partition: int, sku: str) -> tuple[int, int] | None:
        found = self.get(partition, "row", sku)
        return None if found is None else (int(found[0]), int(found[1]))

    def line_sku(self, partition: int, id_product: int, id_attribute: int) -> tuple[str, int] | None:
        """The SKU an order line counts against, and its combination (see streams.orders.line_sku)."""
        return line_sku(lambda p, a: self.sku(partition, p, a), id_product, id_attribute)


# field of ShopState -> table name (changelog topic: <app id>-<name>-changelog)
SHOP_TABLES = {
    "orders": "orders",
    "details": "order-details",
    "history": "order-history",
    "references": "references",
    "pending": "pending-orders",
    "unmapped": "orders-awaiting-mapping",
    "emitted": "emitted-commands",
    "order_stock": "order-stock",
    "erp_levels": "erp-levels",
    "erp_prices": "erp-prices",
    "erp_products": "erp-products",
    "waits": "order-waits",
}

STOCK_TABLES = {
    "books": "stock-books",
    "product_skus": "product-skus",
    "published": "stock-published",
    "shop_stock": "shop-stock",
    "sent": "stock-sent",
}


@dataclass
class ShopState:
    """The shop-events processor's tables. Order tables are keyed by id_order (its partition's)."""
    orders: Table        # id_order -> {"row", "ts_ms", "gtid", "awaits": [id_product], "sent": [emitted key]}
    details: Table       # id_order -> {id_order_detail: row}
    history: Table       # id_order -> {id_order_history: row}
    references: Table    # see References
    pending: Table       # id_order -> partition: waiting for reference rows (which ones: in memory,
                         # streams.orders_hub.RowWaits; retried when one arrives)
    unmapped: Table      # "<partition>|<id_product>" -> [id_order]: a line of theirs has no SKU yet;
                         # retried when that product is mapped
    emitted: Table       # command id, or "dead-letter:<id_order>:<reason>" -> True: sent
    order_stock: Table   # id_order -> {"lines": {id_order_detail: [sku, qty, id_product, attr]},
                         #              "unmapped": {id_order_detail: source}, "cancelled": bool}
    erp_levels: Table    # sku -> latest ERP level (strings) + partition, mapped or not
    erp_prices: Table    # sku -> {"price", "changed_at", "version", "partition"}
    erp_products: Table  # sku -> {"active", "changed_at", "version", "partition"}
    waits: Table         # id_order -> {"since_ms", "partition", "reported": [reason]}: waiting orders
                         # (streams.order_waits); cleared when the order goes out

    def __post_init__(self) -> None:
        self.refs = References(self.references)

    @classmethod
    def of(cls, table: Callable[[str], Table]) -> ShopState:
        """Every table, made by ``table(name)``."""
        return cls(**{field: table(name) for field, name in SHOP_TABLES.items()})

    @classmethod
    def in_memory(cls) -> ShopState:
        return cls.of(lambda name: {})


@dataclass
class StockState:
    """The stock processor's tables, keyed by product or SKU (of the product's partition)."""
    books: Table         # id_product -> StockBook.to_json()
    product_skus: Table  # id_product -> {sku: id_product_attribute}
    published: Table     # sku -> last quantity sent
    shop_stock: Table    # sku -> [quantity, gtid] as the shop last wrote it
    sent: Table          # sku -> [SentStock.to_json()]: the commands the sink may not have applied yet,
                         # from the last one its echo showed (streams.stock_hub reconciliation)

    @classmethod
    def of(cls, table: Callable[[str], Table]) -> StockState:
        return cls(**{field: table(name) for field, name in STOCK_TABLES.items()})

    @classmethod
    def in_memory(cls) -> StockState:
        return cls.of(lambda name: {})
