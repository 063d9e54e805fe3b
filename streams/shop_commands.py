"""ERP changes -> PrestaShop commands (pure logic, no I/O): stock, prices, order states, tracking.

Every command id is derived from what caused it (an ERP change version, a source GTID, an ack),
so reprocessing the same input yields the same command and the sink's idempotency key drops it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pssync.schemas.commands import (OrderStateCommand, PriceCommand, ProductCommand, StockCommand,
                              TrackingCommand, new_command_id)
from pssync.streams.stock import Publish


def order_id_from_reference(shop_reference: str | None, prefix: str = "") -> int | None:
    """The id_order inside a shop reference "<prefix><reference>-<id_order>" (streams/orders.py),
    None when the ERP order did not come from this shop."""
    if not shop_reference or not shop_reference.startswith(prefix):
        return None
    _, sep, tail = shop_reference[len(prefix):].rpartition("-")
    return int(tail) if sep and tail.isascii() and tail.isdigit() else None


def stock_command(published: Publish, trigger: str, id_shop: int, known_orders: tuple[Any, ...],
                  orders_since: dt.datetime, now: dt.datetime) -> StockCommand:
    return StockCommand(
        command_id=new_command_id("stock", published.sku, trigger), source_event_id=trigger,
        created_at=now, sku=published.sku, id_shop=id_shop, id_product=published.id_product,
        id_product_attribute=published.id_product_attribute, quantity=published.quantity,
        erp_as_of=published.as_of, known_orders=tuple(int(k) for k in known_orders),
        orders_since=orders_since, shortfall=published.shortfall)


def price_command(sku: str, row: tuple[int, int], price: Decimal, changed_at: dt.datetime, trigger: str,
                  id_shop: int, now: dt.datetime) -> PriceCommand:
    return PriceCommand(command_id=new_command_id("price", sku, trigger), source_event_id=trigger,
                        created_at=now, sku=sku, id_shop=id_shop, id_product=row[0],
                        id_product_attribute=row[1], price=price, changed_at=changed_at)


def product_command(sku: str, row: tuple[int, int], active: bool, changed_at: dt.datetime, trigger: str,
                    id_shop: int, now: dt.datetime) -> ProductCommand | None:
    """None for a combination: PrestaShop has no per-combination active flag."""
    if row[1] != 0:
        return None
    return ProductCommand(command_id=new_command_id("product", sku, trigger), source_event_id=trigger,
                          created_at=now, sku=sku, id_shop=id_shop, id_product=row[0], active=active,
                          changed_at=_aware(changed_at))


def state_command(event: Mapping[str, Any], states: Mapping[str, str], kind: str, prefix: str,
                  now: dt.datetime) -> OrderStateCommand | None:
    """For an erp.order_status or erp.shipments event: the shop state its ERP state maps to, or None
    (state not mapped, or an ERP order that did not come from this shop)."""
    state_key = states.get(event["state"])
    id_order = order_id_from_reference(event.get("shop_reference"), prefix)
    if state_key is None or id_order is None:
        return None
    trigger = f"{kind}:{event['version']}"
    return OrderStateCommand(command_id=new_command_id("state", id_order, state_key, trigger),
                             source_event_id=trigger, created_at=now, id_order=id_order,
                             shop_reference=event["shop_reference"], state_key=state_key,
                             erp_state=event["state"], changed_at=_aware(event["changed_at"]))


def tracking_command(event: Mapping[str, Any], prefix: str, now: dt.datetime) -> TrackingCommand | None:
    id_order = order_id_from_reference(event.get("shop_reference"), prefix)
    number = (event.get("tracking_number") or "").strip()
    if id_order is None or not number:
        return None
    trigger = f"shipment:{event['version']}"
    return TrackingCommand(command_id=new_command_id("tracking", id_order, trigger), source_event_id=trigger,
                           created_at=now, id_order=id_order, shop_reference=event["shop_reference"],
                           tracking_number=number, carrier=event.get("carrier"),
                           changed_at=_aware(event["changed_at"]))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
