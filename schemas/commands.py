"""The commands processors send and sinks apply: the contract between streams/ and sinks/.

Every command names its idempotency key ``(resource, external_id, operation, source_event_id)``;
a sink records the key with the effect, so a command delivered or replayed twice acts once.
Commands travel as registered Avro (``shop_command.avsc``, ``order_ack.avsc``; see
:mod:`pssync.schemas.codec`) and are parsed back with validation: a malformed one raises
:class:`BadCommand` naming the record and the reason.

Shop commands (ERP -> PrestaShop) go to ``streams.shop_commands_topic`` keyed by the row they
change, so the commands of one row stay in order; sales-order commands (PrestaShop -> ERP,
``pssync.schemas.sales_order.SalesOrderCommand``) go to ``streams.commands_topic`` keyed by the
order's shop reference, so the create and the cancel of one order are applied in order.
"""
from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pssync.schemas.sales_order import SalesOrderCommand
from pssync.errors import PermanentError

COMMAND_NAMESPACE = uuid.UUID("5f0d8a3e-6c1b-5d2e-9a47-0b8e2f6c1d93")   # fixed forever


class BadCommand(PermanentError, ValueError):
    def __init__(self, reason: str, record: str) -> None:
        self.reason, self.record = reason, record
        super().__init__(f"{record}: {reason}")


class IdempotencyKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    resource: str
    external_id: str
    operation: str
    source_event_id: str


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    command_id: str
    source_event_id: str = Field(min_length=1)   # what caused it: an ERP change version, a GTID, an ack
    created_at: AwareDatetime

    resource: str = ""
    operation: str = ""

    @property
    def external_id(self) -> str:
        raise NotImplementedError

    @property
    def key(self) -> IdempotencyKey:
        return IdempotencyKey(resource=self.resource, external_id=self.external_id,
                              operation=self.operation, source_event_id=self.source_event_id)

    @property
    def kafka_key(self) -> bytes:
        return self.external_id.encode()


class StockCommand(_Command):
    """Set one ps_stock_available row to ``quantity`` (the ERP level minus the shop orders the ERP
    had not accounted for, as far as the processor knew). Orders placed since ``orders_since`` that
    are not in ``known_orders`` were not known to the processor: the sink subtracts them, so a
    checkout racing this command is never overwritten. The sink rewrites the product-level row as
    the sum of the combination rows, as PrestaShop does."""
    type: Literal["stock"] = "stock"
    resource: Literal["stock_available"] = "stock_available"
    operation: Literal["set_quantity"] = "set_quantity"
    sku: str
    id_shop: int
    id_product: int
    id_product_attribute: int
    quantity: int = Field(ge=0)
    erp_as_of: AwareDatetime
    known_orders: tuple[int, ...] = ()
    orders_since: AwareDatetime
    shortfall: int = 0                  # units promised beyond what the ERP covers (for alerts)

    @property
    def external_id(self) -> str:
        return self.sku


class PriceCommand(_Command):
    """Set the tax-excluded price of a product (id_product_attribute 0) or, for a combination, its
    impact = ``price`` minus the product's base price."""
    type: Literal["price"] = "price"
    resource: Literal["product_price"] = "product_price"
    operation: Literal["set_price"] = "set_price"
    sku: str
    id_shop: int
    id_product: int
    id_product_attribute: int
    price: Decimal = Field(ge=0)
    changed_at: AwareDatetime

    @property
    def external_id(self) -> str:
        return self.sku


class ProductCommand(_Command):
    """ERP-owned product fields (deploy/rules.yaml, entity product) other than prices: whether the
    product is for sale (ps_product.active and ps_product_shop.active). Product level only."""
    type: Literal["product"] = "product"
    resource: Literal["product"] = "product"
    operation: Literal["set_fields"] = "set_fields"
    sku: str
    id_shop: int
    id_product: int
    active: bool
    changed_at: AwareDatetime

    @property
    def external_id(self) -> str:
        return self.sku


class OrderStateCommand(_Command):
    """Move a shop order to the state named by ``state_key`` (a PS_OS_* configuration name, resolved
    to an id by the sink); a no-op when the order is already in it."""
    type: Literal["order_state"] = "order_state"
    resource: Literal["order"] = "order"
    operation: Literal["add_state"] = "add_state"
    id_order: int
    shop_reference: str
    state_key: str = Field(pattern=r"^PS_OS_[A-Z_]+$")
    erp_state: str
    changed_at: AwareDatetime

    @property
    def external_id(self) -> str:
        return self.shop_reference


class TrackingCommand(_Command):
    type: Literal["tracking"] = "tracking"
    resource: Literal["order_carrier"] = "order_carrier"
    operation: Literal["set_tracking"] = "set_tracking"
    id_order: int
    shop_reference: str
    tracking_number: str = Field(min_length=1, max_length=64)
    carrier: str | None = None
    changed_at: AwareDatetime

    @property
    def external_id(self) -> str:
        return self.shop_reference


ShopCommand = Annotated[Union[StockCommand, PriceCommand, ProductCommand, OrderStateCommand, TrackingCommand],
                        Field(discriminator="type")]
_shop_command = TypeAdapter(ShopCommand)


class OrderAck(BaseModel):
    """The ERP sink's report that the ERP holds (create) or cancelled (cancel) a shop order; the
    stock processor stops subtracting an order once an ERP level newer than ``acked_at`` arrives."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    command_id: str
    action: Literal["create", "cancel"]
    id_order: int
    shop_reference: str
    erp_order_id: str
    created: bool
    acked_at: AwareDatetime
    lines: dict[str, Decimal] = Field(default_factory=dict)   # sku -> quantity


def new_command_id(*parts: Any) -> str:
    """Deterministic: the same cause gives the same id on every reprocessing."""
    return str(uuid.uuid5(COMMAND_NAMESPACE, ":".join(str(p) for p in parts)))


def sales_order_key(command: SalesOrderCommand) -> IdempotencyKey:
    return IdempotencyKey(resource="sales_order", external_id=command.shop_reference,
                          operation=command.erp_action, source_event_id=command.source_event_id)


def payload_hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "invalid command: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
