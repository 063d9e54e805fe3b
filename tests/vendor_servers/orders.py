"""Shop-side sample records the adapter tests send to the local vendor servers."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.erp.base import Address, Customer, SalesOrder, SalesOrderLine


def sample_order(reference: str = "XKBKNABJK", lines: tuple[tuple[str, str, str], ...] = (
        ("HC-100", "2", "19.90"), ("HC-200", "1", "5.00")), customer_id: str = "PS-CUST-42",
        ) -> SalesOrder:
    address = Address(name="Ada Lovelace", street="1 Analytical Way", postal_code="75001",
                      city="Paris", country_code="FR", phone="+33100000000")
    return SalesOrder(
        shop_reference=reference,
        customer=Customer(customer_id, "Ada Lovelace", "ada@example.com"),
        currency="EUR",
        lines=tuple(SalesOrderLine(sku, Decimal(qty), Decimal(price), f"item {sku}")
                    for sku, qty, price in lines),
        invoice_address=address, shipment_address=address,
        ordered_at=dt.datetime(2024, 5, 2, 9, 30, tzinfo=dt.timezone.utc),
        shipping_cost=Decimal("4.90"), comment="leave at the door")
