"""Topic names, the address part of the contracts: the capture's change-event topics (Debezium's
``<prefix>.<database>.<table>``) and the ERP capture's topics (``<prefix>.erp.<kind>``)."""
from __future__ import annotations

from typing import Literal

ErpKind = Literal["stock", "price", "product", "order_status", "shipment"]

ERP_TOPICS: dict[str, str] = {
    "stock": "erp.stock",
    "price": "erp.prices",
    "product": "erp.products",
    "order_status": "erp.order_status",
    "shipment": "erp.shipments",
}


def change_topic(prefix: str, database: str, table: str) -> str:
    """Where the capture writes the change events of one table."""
    return f"{prefix}.{database}.{table}"


def erp_topic(prefix: str, kind: str) -> str:
    """Where the ERP capture writes the changes of one kind."""
    return f"{prefix}.{ERP_TOPICS[kind]}" if prefix else ERP_TOPICS[kind]
