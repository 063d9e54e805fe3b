"""Join one PrestaShop order into one ERP sales-order command (pure logic, no I/O).

Inputs are the ``after`` images of the order's change events (column -> value; DECIMAL columns are
Decimal, DATETIME columns aware UTC datetimes, zero dates None) plus the reference rows the order
points at. The result is a :class:`SalesOrderCommand` that converts to ``erp.base.SalesOrder``, or
``None`` when the order's state asks for nothing, or :class:`Unmappable` for the dead-letter topic.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pssync.erp.base import Address, Customer
from pssync.prestashop.configuration import resolve_configuration
from pssync.schemas.sales_order import CommandLine, ErpAction, SalesOrderCommand
from pssync.errors import PermanentError, TransientError

Row = Mapping[str, Any]
SkuLookup = Callable[[int, int], str | None]
# create: always send; unpaid: awaiting payment, sent only with send_unpaid; cancel; ignore: no command
StateRule = Literal["create", "unpaid", "cancel", "ignore"]

# Fixed forever: changing it changes every command id and defeats de-duplication downstream.
ORDER_COMMAND_NAMESPACE = uuid.UUID("bd6f20ab-eef1-575d-9919-435d3926f296")
TOTALS_TOLERANCE = Decimal("0.01")
DEFAULT_PLACES = 2

DEFAULT_STATES: dict[str, StateRule] = {
    "PS_OS_PAYMENT": "create",
    "PS_OS_WS_PAYMENT": "create",
    "PS_OS_OUTOFSTOCK_PAID": "create",
    "PS_OS_CHEQUE": "unpaid",
    "PS_OS_BANKWIRE": "unpaid",
    "PS_OS_COD_VALIDATION": "unpaid",
    "PS_OS_OUTOFSTOCK_UNPAID": "unpaid",
    "PS_OS_CANCELED": "cancel",
    "PS_OS_ERROR": "cancel",
    "PS_OS_PREPARATION": "ignore",
    "PS_OS_SHIPPING": "ignore",
    "PS_OS_DELIVERED": "ignore",
    "PS_OS_REFUND": "ignore",
}
_COMMENT_FIELDS = {"shop_reference": "", "reference": "", "id_order": 0, "payment": ""}


class ConfigurationIncomplete(TransientError):
    """The order's state cannot be told yet: some mapped PS_OS_* keys are not among the rows."""


class Unmappable(PermanentError):
    """An order that cannot become a command. ``record`` names what it is about (shop, order,
    line, product ids...) with JSON-friendly values, for the dead-letter topic's headers."""

    def __init__(self, reason: str, record: Mapping[str, Any]) -> None:
        self.reason = reason
        self.record = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in record.items()}
        super().__init__(f"{reason} [{', '.join(f'{k}={v}' for k, v in self.record.items())}]")


class ProductNotMapped(Unmappable):
    """A line's product has no ERP SKU in the mapping (yet: the mapping may be loaded later)."""


# ---------------------------------------------------------------------------------------------
# Configuration (deploy/order_mapping.yaml)
# ---------------------------------------------------------------------------------------------

class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtraLine(_Frozen):
    sku: str = Field(min_length=1)
    description: str = ""


class LinesExtra(_Frozen):
    """Order-level amounts sent as extra lines. Without a ``shipping`` line the shipping goes to
    ``SalesOrder.shipping_cost``; a wrapping or discount amount with no line configured makes the
    order Unmappable rather than reach the ERP with a wrong total."""
    shipping: ExtraLine | None = None
    wrapping: ExtraLine | None = None
    discount: ExtraLine | None = None


class OrderMapping(_Frozen):
    shop_id: str = Field("prestashop", min_length=1)   # identity of this installation in command ids
    shop_reference_prefix: str = ""
    erp_currency: str | None = None                    # None: send in the order's currency
    send_unpaid: bool = False
    states: dict[str, StateRule] = Field(default_factory=lambda: dict(DEFAULT_STATES))
    countries: dict[int, str] = Field(default_factory=dict)   # ps_address.id_country -> ISO alpha-2
    default_carrier: str = ""
    carriers: dict[int, str] = Field(default_factory=dict)    # ps_orders.id_carrier -> carrier text
    default_price_list: str | None = None
    price_lists: dict[int, str] = Field(default_factory=dict)  # ps_customer.id_default_group -> list
    comment_prefix: str = ""
    lines_extra: LinesExtra = LinesExtra()
    # sanity limits: an order beyond them is dead-lettered with the line or total named, never sent
    max_line_quantity: int = Field(10_000, ge=1)               # units on one ps_order_detail line
    max_order_total: Decimal | None = Field(None, gt=0)        # ps_orders.total_paid_tax_incl; None: no limit

    @field_validator("erp_currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"not an ISO 4217 code: {value!r}")
        return value.upper()

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: dict[int, str]) -> dict[int, str]:
        for id_country, code in value.items():
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"country {id_country}: not an ISO 3166-1 alpha-2 code: {code!r}")
        return {k: v.upper() for k, v in value.items()}

    @field_validator("states")
    @classmethod
    def _states(cls, value: dict[str, StateRule]) -> dict[str, StateRule]:
        for key in value:
            if not key.startswith("PS_OS_"):
                raise ValueError(f"{key!r} is not a PS_OS_* configuration key")
        return value

    @field_validator("comment_prefix")
    @classmethod
    def _comment_prefix(cls, value: str) -> str:
        try:
            value.format(**_COMMENT_FIELDS)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"placeholders allowed: {', '.join(_COMMENT_FIELDS)} ({exc!r})") from None
        return value

    @classmethod
    def from_yaml(cls, text: str) -> OrderMapping:
        return cls.model_validate(yaml.safe_load(text) or {})


# ---------------------------------------------------------------------------------------------
# The order's rows
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderRows:
    order: Row                          # ps_orders
    details: Sequence[Row]              # all its ps_order_detail rows
    history: Sequence[Row]              # all its ps_order_history rows
    addresses: Sequence[Row]            # ps_address: at least its delivery and invoice addresses
    customer: Row | None                # ps_customer
    currencies: Sequence[Row]           # ps_currency: the order's and the shop default currency
    configuration: Sequence[Row]        # ps_configuration rows (all scopes)


def command_id(shop_id: str, id_order: int, source_event_id: str) -> uuid.UUID:
    return uuid.uuid5(ORDER_COMMAND_NAMESPACE, f"{shop_id}:{id_order}:{source_event_id}")


def build_command(rows: OrderRows, mapping: OrderMapping, sku_for: SkuLookup,
                  source_event_id: str, order_position: Sequence[Any] | None = None) -> SalesOrderCommand | None:
    """The command for one order, or None when its state maps to no ERP action.

    ``source_event_id`` names what the command stems from (streams.orders_hub.source_event_id): for
    an order's first command the GTID of the transaction that created the order, so redeliveries and
    re-snapshots give the same command id; a later change of action (a cancel after the create, a
    create again after a cancel) adds the action and its rank, so each is a command of its own.
    ``order_position``: the binlog position of the ps_orders row's event (see effective_state).
    ``sku_for(id_product, id_product_attribute)`` is the product mapping table."""
    if not source_event_id:
        raise ValueError("source_event_id (the MariaDB GTID) is required")
    order = rows.order
    id_order, id_shop, id_shop_group = (_int(order, c) for c in ("id_order", "id_shop", "id_shop_group"))
    ctx: dict[str, Any] = {"shop_id": mapping.shop_id, "id_shop": id_shop, "id_order": id_order,
                           "reference": order.get("reference")}
    _check_same_order(id_order, rows.details, "ps_order_detail")
    _check_same_order(id_order, rows.history, "ps_order_history")

    state_id = effective_state(order, rows.history, order_position)
    state_key, action = _action(state_id, rows.configuration, mapping, id_shop, id_shop_group, ctx)
    if action is None:
        return None
    ctx["state"] = f"{state_key}={state_id}"

    reference = (order.get("reference") or "").strip()
    if not reference:
        raise Unmappable("order has no reference", ctx)
    currency, money = _currency(order, rows.currencies, rows.configuration, mapping,
                                id_shop, id_shop_group, ctx)
    _check_limits(order, rows.details, mapping, ctx)
    _check_totals(order, rows.details, ctx)
    customer_row = _customer_row(order, rows.customer, ctx)
    addresses = {_int(a, "id_address"): a for a in rows.addresses}
    lines, shipping_cost = _lines(order, rows.details, sku_for, money, mapping.lines_extra, ctx)
    # PrestaShop gives every order split from one cart (one per carrier or warehouse) the cart's
    # 9-letter reference, so the reference alone would make the ERP's idempotent create take the
    # second order for a duplicate of the first and drop it; id_order makes it unique while the
    # reference the customer sees stays searchable.
    shop_reference = f"{mapping.shop_reference_prefix}{reference}-{id_order}"

    return SalesOrderCommand(
        command_id=command_id(mapping.shop_id, id_order, source_event_id),
        erp_action=action,
        shop_id=mapping.shop_id,
        id_shop=id_shop,
        id_order=id_order,
        reference=reference,
        shop_reference=shop_reference,
        state_id=state_id,
        state_key=state_key,
        source_event_id=source_event_id,
        customer=_customer(customer_row),
        currency=currency,
        lines=lines,
        invoice_address=_address(order, "id_address_invoice", addresses, mapping, ctx),
        shipment_address=_address(order, "id_address_delivery", addresses, mapping, ctx),
        ordered_at=_utc(order, "date_add"),
        shipping_cost=shipping_cost,
        comment=_comment(order, reference, shop_reference, mapping),
        carrier=mapping.carriers.get(_int(order, "id_carrier"), mapping.default_carrier),
        price_list=mapping.price_lists.get(_int(customer_row, "id_default_group"),
                                           mapping.default_price_list),
    )


# ---------------------------------------------------------------------------------------------
# States
# ---------------------------------------------------------------------------------------------

POSITION_FIELD = "_binlog"     # kept beside a history row by the processors: where its event was


def binlog_position(source: Mapping[str, Any]) -> list[Any] | None:
    """Where a change event was in the binlog, as [file, pos] (comparable across tables of one
    server), or None for a snapshot read, which has no place in the binlog of its own."""
    if source.get("snapshot") not in (None, "false", False) or not source.get("file"):
        return None
    return [str(source["file"]), int(source.get("pos") or 0)]


def effective_state(order: Row, history: Iterable[Row], order_position: Sequence[Any] | None = None) -> int:
    """The order's state as the shop last wrote it. PrestaShop writes a state change as separate
    statements (history row, ps_orders update), each on a topic of its own, so either may be ahead:
    when both events' binlog positions are known, the later one tells the state; otherwise the
    history row counts when it is newer than ``ps_orders.date_upd`` (a snapshot, read at one point,
    has both rows of a finished change; one caught between them is told again by its binlog events)."""
    latest = max(history, key=lambda h: _int(h, "id_order_history"), default=None)
    if latest is None:
        return _int(order, "current_state")
    position = latest.get(POSITION_FIELD)
    if position is not None and order_position is not None:
        later = tuple(position) > tuple(order_position)
        return _int(latest, "id_order_state") if later else _int(order, "current_state")
    date_upd = order.get("date_upd")
    if date_upd is not None and latest.get("date_add") is not None and latest["date_add"] > date_upd:
        return _int(latest, "id_order_state")
    return _int(order, "current_state")


def order_action(rows: OrderRows, mapping: OrderMapping, order_position: Sequence[Any] | None = None
                 ) -> ErpAction | None:
    """What the order's current state asks of the ERP ("create", "cancel" or None), without building
    the command: tells the processors which command id the command gets. Raises as build_command."""
    order = rows.order
    ctx = {"shop_id": mapping.shop_id, "id_order": order.get("id_order"), "reference": order.get("reference")}
    state_id = effective_state(order, rows.history, order_position)
    return _action(state_id, rows.configuration, mapping, _int(order, "id_shop"), _int(order, "id_shop_group"),
                   ctx)[1]


def _action(state_id: int, configuration: Sequence[Row], mapping: OrderMapping, id_shop: int,
            id_shop_group: int, ctx: Mapping[str, Any]) -> tuple[str, ErpAction | None]:
    matches: dict[str, StateRule] = {}
    resolved = 0
    for key, rule in mapping.states.items():
        value = resolve_configuration(configuration, key, id_shop, id_shop_group)
        if value is None or not value.strip().isdigit():
            continue
        resolved += 1
        if int(value) == state_id:
            matches[key] = rule
    if not matches and resolved < len(mapping.states):
        # the processors receive ps_configuration row by row: the key this state is may be on its way
        raise ConfigurationIncomplete(f"state {state_id} matches none of the {resolved} PS_OS_* keys known so "
                                      f"far (of {len(mapping.states)} mapped)")
    if not matches:
        return f"unmapped state {state_id}", None
    if len(set(matches.values())) > 1:
        raise Unmappable(f"state {state_id} is configured as several keys with different actions: "
                         f"{matches}", ctx)
    key, rule = sorted(matches.items())[0]
    if rule == "create" or (rule == "unpaid" and mapping.send_unpaid):
        return key, "create"
    if rule == "cancel":
        return key, "cancel"
    return key, None


# ---------------------------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------------------------

def convert_amount(amount: Decimal, rate: Decimal, places: int) -> Decimal:
    """``amount / rate`` rounded once, ROUND_HALF_EVEN, to ``places`` decimals. The quotient is
    computed exactly as a fraction, so no intermediate rounding can move a tie."""
    rounded = round(Fraction(amount) / Fraction(rate), places)
    scaled = rounded * 10 ** places          # an integer: rounded has at most `places` decimals
    return Decimal(f"{int(scaled)}E-{places}")


def _currency(order: Row, currencies: Sequence[Row], configuration: Sequence[Row], mapping: OrderMapping,
              id_shop: int, id_shop_group: int,
              ctx: Mapping[str, Any]) -> tuple[str, Callable[[Decimal], Decimal]]:
    by_id = {_int(c, "id_currency"): c for c in currencies}
    order_currency = by_id.get(_int(order, "id_currency"))
    if order_currency is None:
        raise Unmappable(f"ps_currency {order['id_currency']} of the order is missing", ctx)
    iso = str(order_currency["iso_code"]).upper()
    target = mapping.erp_currency or iso
    if target == iso:
        return iso, lambda amount: amount
    default_id = resolve_configuration(configuration, "PS_CURRENCY_DEFAULT", id_shop, id_shop_group)
    default = by_id.get(int(default_id)) if default_id and default_id.strip().isdigit() else None
    if default is None or str(default["iso_code"]).upper() != target:
        raise Unmappable(f"order is in {iso}, the ERP currency {target} is not the shop default "
                         f"currency (PS_CURRENCY_DEFAULT={default_id}, row given: {default is not None}): "
                         "ps_orders.conversion_rate only converts to the default currency", ctx)
    rate = _dec(order, "conversion_rate")
    if rate <= 0:
        raise Unmappable(f"ps_orders.conversion_rate is {rate}", ctx)
    precision = default.get("precision")
    places = int(precision) if precision is not None else DEFAULT_PLACES
    return target, lambda amount: convert_amount(amount, rate, places)


def lines_incomplete(order: Row, details: Sequence[Row]) -> bool:
    """True while the lines seen so far add up to less than the order's products total: the
    processors read header and lines from different topics, so the rest may still be on its way.
    (More than the total is an error, reported by build_command.)"""
    try:
        lines_total = sum((_dec(d, "total_price_tax_excl") for d in details), Decimal(0))
        return not details or lines_total < _dec(order, "total_products") - TOTALS_TOLERANCE
    except (Unmappable, KeyError, TypeError):
        return False      # malformed: build_command names the problem


def _check_totals(order: Row, details: Sequence[Row], ctx: Mapping[str, Any]) -> None:
    if not details:
        raise Unmappable("order has no ps_order_detail rows", ctx)
    lines_total = sum((_dec(d, "total_price_tax_excl") for d in details), Decimal(0))
    total_products = _dec(order, "total_products")
    if abs(lines_total - total_products) > TOTALS_TOLERANCE:
        raise Unmappable(f"sum of ps_order_detail.total_price_tax_excl {lines_total} differs from "
                         f"ps_orders.total_products {total_products}",
                         {**ctx, "lines_total": lines_total, "total_products": total_products})


def _check_limits(order: Row, details: Sequence[Row], mapping: OrderMapping, ctx: Mapping[str, Any]) -> None:
    """The order mapping's sanity limits (a line of 2,000,000,000 units is a bad row, not a sale)."""
    for detail in sorted(details, key=lambda d: _int(d, "id_order_detail")):
        quantity = _int(detail, "product_quantity")
        if quantity > mapping.max_line_quantity:
            raise Unmappable(
                f"line {_int(detail, 'id_order_detail')} (product {_int(detail, 'product_id')}, combination "
                f"{int(detail.get('product_attribute_id') or 0)}) has quantity {quantity}, above "
                f"max_line_quantity {mapping.max_line_quantity}",
                {**ctx, "id_order_detail": _int(detail, "id_order_detail"), "product_quantity": quantity})
    if mapping.max_order_total is not None and order.get("total_paid_tax_incl") is not None:
        total = _dec(order, "total_paid_tax_incl")
        if total > mapping.max_order_total:
            raise Unmappable(f"ps_orders.total_paid_tax_incl {total} is above max_order_total "
                             f"{mapping.max_order_total}", {**ctx, "total_paid_tax_incl": total})


def _lines(order: Row, details: Sequence[Row], sku_for: SkuLookup, money: Callable[[Decimal], Decimal],
           extra: LinesExtra, ctx: Mapping[str, Any]) -> tuple[tuple[CommandLine, ...], Decimal]:
    ordered = sorted(details, key=lambda d: _int(d, "id_order_detail"))
    lines = [_product_line(d, sku_for, money, ctx) for d in ordered]
    shipping = money(_dec(order, "total_shipping_tax_excl"))
    if extra.shipping is not None and shipping:
        lines.append(CommandLine(extra.shipping.sku, Decimal(1), shipping, extra.shipping.description,
                                 "shipping"))
        shipping = Decimal(0)
    for kind, column, sign in (("wrapping", "total_wrapping_tax_excl", 1),
                               ("discount", "total_discounts_tax_excl", -1)):
        amount = _dec(order, column)
        if not amount:
            continue
        line: ExtraLine | None = getattr(extra, kind)
        if line is None:
            raise Unmappable(f"ps_orders.{column} is {amount} but lines_extra.{kind} is not configured",
                             {**ctx, column: amount})
        lines.append(CommandLine(line.sku, Decimal(1), sign * money(amount), line.description, kind))
    return tuple(lines), shipping


def line_sku(sku_for: SkuLookup, id_product: int, id_attribute: int) -> tuple[str, int] | None:
    """The SKU of a line's product/combination and the combination it is mapped at: the
    combination's own mapping, else a deliberate product-level mapping (combination 0)."""
    sku = sku_for(id_product, id_attribute)
    if sku:
        return sku, id_attribute
    if id_attribute and (sku := sku_for(id_product, 0)):
        return sku, 0
    return None


def _product_line(detail: Row, sku_for: SkuLookup, money: Callable[[Decimal], Decimal],
                  ctx: Mapping[str, Any]) -> CommandLine:
    id_product = _int(detail, "product_id")
    id_attribute = int(detail.get("product_attribute_id") or 0)
    where = {**ctx, "id_order_detail": _int(detail, "id_order_detail"),
             "product_id": id_product, "product_attribute_id": id_attribute}
    found = line_sku(sku_for, id_product, id_attribute)
    if found is None:
        tried = f"({id_product}, {id_attribute})" + (f" nor ({id_product}, 0)" if id_attribute else "")
        raise ProductNotMapped(f"no ERP SKU mapped for product/combination {tried}", where)
    sku = found[0]
    quantity = Decimal(_int(detail, "product_quantity"))
    if quantity <= 0:
        raise Unmappable(f"line has quantity {quantity}", where)
    return CommandLine(sku, quantity, money(_dec(detail, "unit_price_tax_excl")),
                       _clean(detail.get("product_name")), "product", where["id_order_detail"])


# ---------------------------------------------------------------------------------------------
# Customer, addresses, comment
# ---------------------------------------------------------------------------------------------

def _customer_row(order: Row, customer: Row | None, ctx: Mapping[str, Any]) -> Row:
    wanted = _int(order, "id_customer")
    if customer is None or _int(customer, "id_customer") != wanted:
        raise Unmappable(f"ps_customer {wanted} of the order is missing", {**ctx, "id_customer": wanted})
    return customer


def _customer(row: Row) -> Customer:
    return Customer(external_id=f"PS-CUST-{_int(row, 'id_customer')}",
                    name=_clean(f"{row.get('firstname') or ''} {row.get('lastname') or ''}"),
                    email=_clean(row.get("email")),
                    company=_clean(row.get("company")))


def standardise_address(row: Row, countries: Mapping[int, str],
                        ctx: Mapping[str, Any] | None = None) -> Address:
    """Whitespace trimmed and collapsed everywhere, postcode upper-cased, country through the
    configured id_country -> ISO map, name = firstname + lastname, phone else mobile phone."""
    where = {**(ctx or {}), "id_address": _int(row, "id_address"), "id_country": _int(row, "id_country")}
    country = countries.get(_int(row, "id_country"))
    if country is None:
        raise Unmappable(f"id_country {row['id_country']} is not in the countries map", where)
    street, city = _clean(row.get("address1")), _clean(row.get("city"))
    if not street or not city:
        raise Unmappable("address has no street (address1) or no city", where)
    return Address(
        name=_clean(f"{row.get('firstname') or ''} {row.get('lastname') or ''}"),
        street=street,
        street2=_clean(row.get("address2")),
        postal_code=_clean(row.get("postcode")).upper(),
        city=city,
        country_code=country,
        company=_clean(row.get("company")),
        phone=_clean(row.get("phone")) or _clean(row.get("phone_mobile")),
    )


def _address(order: Row, column: str, addresses: Mapping[int, Row], mapping: OrderMapping,
             ctx: Mapping[str, Any]) -> Address:
    id_address = _int(order, column)
    row = addresses.get(id_address)
    if row is None:
        kind = "delivery" if column == "id_address_delivery" else "invoice"
        raise Unmappable(f"{kind} address ps_address {id_address} is missing", {**ctx, column: id_address})
    return standardise_address(row, mapping.countries, ctx)


def _comment(order: Row, reference: str, shop_reference: str, mapping: OrderMapping) -> str:
    parts = []
    if mapping.comment_prefix:
        parts.append(mapping.comment_prefix.format(shop_reference=shop_reference, reference=reference,
                                                   id_order=_int(order, "id_order"),
                                                   payment=_clean(order.get("payment"))))
    gift_message = (order.get("gift_message") or "").strip()
    if gift_message:
        parts.append(f"Gift message: {gift_message}")
    note = (order.get("note") or "").strip()
    if note:
        parts.append(f"Note: {note}")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

def _check_same_order(id_order: int, rows: Iterable[Row], table: str) -> None:
    for row in rows:
        if _int(row, "id_order") != id_order:
            raise ValueError(f"{table} row of order {row['id_order']} given for order {id_order}")


def _clean(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _int(row: Row, column: str) -> int:
    value = row.get(column)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise TypeError(f"{column}: expected an integer, got {value!r}")
    return int(value)


def _dec(row: Row, column: str) -> Decimal:
    """Exact only: Decimal, int or a decimal string; a float would already be inexact."""
    value = row.get(column)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    raise TypeError(f"{column}: expected a Decimal, got {value!r}")


def _utc(row: Row, column: str) -> dt.datetime:
    value = row.get(column)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise TypeError(f"{column}: expected an aware datetime, got {value!r}")
    return value.astimezone(dt.timezone.utc)
