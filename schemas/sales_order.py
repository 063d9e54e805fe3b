"""The sales-order command: the contract between the processors (which build it from a shop order,
``streams.orders``) and the ERP sink (which hands it to the ERP adapter as an ``erp.base.SalesOrder``).
Its wire form (registered Avro) is in ``sales_order_command.avsc`` beside this module."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pssync.erp.base import Address, Customer, SalesOrder, SalesOrderLine

ErpAction = Literal["create", "cancel"]
LineKind = Literal["product", "shipping", "wrapping", "discount"]


@dataclass(frozen=True)
class CommandLine:
    sku: str
    quantity: Decimal
    unit_price: Decimal                 # tax excluded, in the command's currency
    description: str
    kind: LineKind = "product"
    id_order_detail: int | None = None  # the source line; None for extra lines

    def to_erp(self) -> SalesOrderLine:
        return SalesOrderLine(self.sku, self.quantity, self.unit_price, self.description)


@dataclass(frozen=True)
class SalesOrderCommand:
    command_id: uuid.UUID
    erp_action: ErpAction
    shop_id: str
    id_shop: int
    id_order: int
    reference: str                      # PrestaShop's reference, shared by orders split from a cart
    shop_reference: str                 # unique per order: the ERP's idempotency key
    state_id: int
    state_key: str                      # the PS_OS_* key the state resolved to
    source_event_id: str
    customer: Customer
    currency: str
    lines: tuple[CommandLine, ...]
    invoice_address: Address
    shipment_address: Address
    ordered_at: dt.datetime
    shipping_cost: Decimal              # tax excluded; 0 when shipping is sent as a line
    comment: str
    carrier: str
    price_list: str | None

    @property
    def net_total(self) -> Decimal:
        """Tax-excluded total as the ERP will compute it from the lines and shipping."""
        return sum((line.quantity * line.unit_price for line in self.lines), Decimal(0)) + self.shipping_cost

    def to_sales_order(self) -> SalesOrder:
        return SalesOrder(
            shop_reference=self.shop_reference,
            customer=self.customer,
            currency=self.currency,
            lines=tuple(line.to_erp() for line in self.lines),
            invoice_address=self.invoice_address,
            shipment_address=self.shipment_address,
            ordered_at=self.ordered_at,
            shipping_cost=self.shipping_cost,
            comment=self.comment,
        )
