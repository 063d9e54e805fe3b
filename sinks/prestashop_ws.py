"""The shop sink's Webservice mode: shop commands applied through PrestaShop's Webservice API, for
shops that forbid direct database writes (``sinks.prestashop_mode: webservice``).

The API as used here (see ../shared/reference/prestashop.md, section 3): ``/api/<resource>[/<id>]``,
HTTP Basic with the Webservice key as the user name and an empty password, ``output_format=JSON``
for what comes back, XML ``<prestashop><node>...</node></prestashop>`` bodies for writes, PATCH
with only the id and the fields that change (PrestaShop 8.0+), lists filtered with
``filter[field]=[v]`` / ``[a|b]`` / ``[from,to]`` (dates only with ``date=1``, in the shop's local
time). Two quirks of the JSON output are handled on purpose: an empty list comes back as a bare
``[]`` (the envelope key vanishes), and a single record omits its falsy fields ("0", "", null), so
a missing field reads as zero/empty.

What each command does:

* **StockCommand** — the Webservice has no compare-and-set, so the write is guarded, not atomic:
  the sink lists the shop's orders placed since ``orders_since`` that the processor did not know
  (not in ``known_orders``, not cancelled / in payment error), subtracts their lines for this
  product/combination from the ERP level and PATCHes ``quantity`` absolutely. It then reads the
  orders once more: if the picture changed in between (a checkout landed, or an order was
  cancelled, while it was writing), it reads the row back and PATCHes the corrected value if the
  row does not already show it. This NARROWS the window in which a checkout's decrement can be
  overwritten; it cannot close it (a checkout between the re-check and the second PATCH, or one
  whose lines are written but whose stock decrement has not run yet, still races). Where exact
  guarding matters, use the database mode, whose guarded write is atomic. The product-level row
  (``id_product_attribute`` 0) is not written: PrestaShop re-sums it itself when a combination
  row is saved (``StockAvailable::postSave``).
* **PriceCommand** — PATCH ``products/{id}`` ``price`` for the product itself; for a combination
  PATCH ``combinations/{id}`` ``price`` = the impact (command price - the product's base price).
  Already at that value: Skipped.
* **OrderStateCommand** — the ``PS_OS_*`` name is resolved to a state id through
  ``configurations``; an order already in that state is Skipped; otherwise POST
  ``order_histories`` (which runs PrestaShop's full state change: stock, invoice, hooks), with
  ``?sendemail=1`` only when ``sinks.webservice.send_email``. A POST whose answer was lost is
  retried by the runner, finds the order in the state and is Skipped: no second history row.
* **TrackingCommand** — PATCH the latest ``order_carriers`` row of the order; the same number
  already there: Skipped.

Failures: timeouts, connection errors, 408/425/429 and 5xx are TransientFailure (Retry-After
honoured by the runner); any other refusal (400, 401, 403, 404, 405, ...) is PermanentFailure with
PrestaShop's own error code and message. The key never appears in a message.

Writes made this way reach the binlog as ordinary shop writes: the capture cannot tag them as the
sink's echo (``marks_echo`` is False), unlike the database mode's.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pymysql

from pssync.prestashop.rules import CANCELLED_STATES, shop_owned_state
from pssync.prestashop.webservice import PrestashopWebservice, decimal_field, int_field, one_of
from pssync.schemas.codec import Codec
from pssync.settings import Settings
from pssync.sinks.errors import PermanentFailure, Skipped
from pssync.sinks.runner import Decoded
from pssync.schemas.commands import (OrderStateCommand, PriceCommand, ProductCommand, StockCommand, TrackingCommand)

log = logging.getLogger(__name__)

CONFIG_TTL_S = 600.0                        # PS_OS_* ids are re-read this often
IDS_PER_FILTER = 100                        # ids per filter[id_order]=[a|b|...] request
PRICE_STEP = Decimal("0.000001")            # DECIMAL(20,6)


# ---- the applier -------------------------------------------------------------------------------

class PrestashopWebserviceApplier:
    """Applier (sinks/runner.py) writing shop commands through the Webservice."""

    direction = "to_shop"
    remote = True             # effects outside the state database: one command per transaction
    marks_echo = False        # nothing written to the shop database through this connection

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 codec: Codec | None = None) -> None:
        if settings.sinks.webservice is None:
            raise ValueError("the Webservice sink needs sinks.webservice.url and sinks.webservice.key")
        self.settings = settings
        self.codec = codec or Codec.from_settings(settings)
        self.name = f"shop-ws-{settings.capture.name}"
        self.topics = [settings.streams.shop_commands_topic]
        self.ws_settings = settings.sinks.webservice
        self.ws = PrestashopWebservice(self.ws_settings, transport=transport)
        self.shop_zone = ZoneInfo(settings.capture.datetime_zone)
        self._config: dict[tuple[str, int], tuple[int, float]] = {}

    # -- Applier protocol ------------------------------------------------------------------------
    def decode(self, value: bytes | None, where: str) -> Decoded:
        cmd = self.codec.shop_command(value, where)
        return Decoded(cmd.key, cmd.command_id, cmd)

    def apply(self, conn: pymysql.connections.Connection | None, command: Any) -> str | None:
        if isinstance(command, StockCommand):
            return self._stock(command)
        if isinstance(command, PriceCommand):
            return self._price(command)
        if isinstance(command, ProductCommand):
            return self._product(command)
        if isinstance(command, OrderStateCommand):
            return self._order_state(command)
        if isinstance(command, TrackingCommand):
            return self._tracking(command)
        raise PermanentFailure(f"the Webservice sink does not handle {type(command).__name__}")

    def before_commit(self) -> None:
        pass

    def close(self) -> None:
        self.ws.close()

    # -- configuration -------------------------------------------------------------------------------
    def config_ids(self, names: Iterable[str], id_shop: int) -> dict[str, int]:
        """PS_OS_* (or other integer) configuration values for a shop: the shop's own row first,
        then the global one (id_shop and id_shop_group empty), then any. Cached for a while."""
        names = list(dict.fromkeys(names))
        now = time.monotonic()
        out: dict[str, int] = {}
        missing = []
        for name in names:
            cached = self._config.get((name, id_shop))
            if cached is not None and now - cached[1] < CONFIG_TTL_S:
                out[name] = cached[0]
            else:
                missing.append(name)
        if missing:
            rows = self.ws.list("configurations", filters={"name": "[" + "|".join(missing) + "]"},
                                display="[id,name,value,id_shop,id_shop_group]")
            for name in missing:
                candidates = [r for r in rows if r.get("name") == name]
                shop_rows = [r for r in candidates if int_field(r, "id_shop") == id_shop]
                global_rows = [r for r in candidates if not int_field(r, "id_shop") and not int_field(r, "id_shop_group")]
                chosen = (shop_rows or global_rows or candidates or [None])[0]
                if chosen is None:
                    raise PermanentFailure(f"configuration {name} not found in the shop (Webservice configurations)")
                value = str(chosen.get("value") or "").strip()
                if not value.isdigit():
                    raise PermanentFailure(f"configuration {name} is {value!r}, not an id")
                self._config[(name, id_shop)] = (int(value), now)
                out[name] = int(value)
        return out

    # -- stock ------------------------------------------------------------------------------------------
    def _stock(self, cmd: StockCommand) -> str:
        row = self._stock_row(cmd)
        row_id = int_field(row, "id")
        if int_field(row, "depends_on_stock"):
            raise PermanentFailure(f"stock_available {row_id} depends on advanced stock management "
                                   f"(depends_on_stock=1): PrestaShop refuses Webservice updates of it")
        excluded = set(self.config_ids(CANCELLED_STATES, cmd.id_shop).values())
        first = self._unseen_quantities(cmd, row, excluded)
        target = max(0, cmd.quantity - sum(first.values()))
        self.ws.patch("stock_availables", "stock_available", row_id, {"quantity": target})
        result = (f"stock_available {row_id} quantity={target} (ERP {cmd.quantity} - "
                  f"{sum(first.values())} in {len(first)} unseen order(s))")

        # Re-check right after the write: a checkout that decremented the row between our read of
        # the orders and the PATCH was overwritten by it; one that came after the PATCH is already
        # on top of it. Reading the row back tells the two apart. This narrows the race; a
        # checkout landing between this re-check and a second PATCH can still be overwritten.
        again = self._unseen_quantities(cmd, row, excluded)
        if again != first:
            expected = max(0, cmd.quantity - sum(again.values()))
            now_row = self.ws.get("stock_availables", row_id)
            current = int_field(now_row, "quantity")
            if current != expected:
                self.ws.patch("stock_availables", "stock_available", row_id, {"quantity": expected})
                result += f"; re-check: unseen orders {sorted(first)} -> {sorted(again)}, quantity={expected}"
            else:
                result += f"; re-check: unseen orders {sorted(first)} -> {sorted(again)}, row already {current}"
            log.info("stock %s: orders changed while writing (%s -> %s)", cmd.sku, sorted(first), sorted(again))
        return result

    def _stock_row(self, cmd: StockCommand) -> dict[str, Any]:
        rows = self.ws.list("stock_availables",
                            filters={"id_product": f"[{cmd.id_product}]",
                                     "id_product_attribute": f"[{cmd.id_product_attribute}]"})
        own = [r for r in rows if int_field(r, "id_shop") == cmd.id_shop]
        shared = [r for r in rows if int_field(r, "id_shop") == 0]     # a shop group sharing its stock
        chosen = own or shared
        if len(chosen) != 1:
            what = (f"product {cmd.id_product} combination {cmd.id_product_attribute} "
                    f"in shop {cmd.id_shop}")
            if not chosen:
                raise PermanentFailure(f"no stock_available row for {what} (sku {cmd.sku})")
            raise PermanentFailure(f"{len(chosen)} shared stock_available rows for {what}: ambiguous")
        return chosen[0]

    def _shop_time(self, when: dt.datetime) -> str:
        return when.astimezone(self.shop_zone).strftime("%Y-%m-%d %H:%M:%S")

    def _unseen_quantities(self, cmd: StockCommand, row: Mapping[str, Any],
                           excluded_states: set[int]) -> dict[int, int]:
        """id_order -> units of this product/combination, over the orders placed since
        ``orders_since`` (the processor already bounds it by ``stock_guard_window_s``) that the
        processor did not know and that hold stock (not cancelled / in payment error)."""
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)   # generous: the shop's clock may run ahead
        filters = {"date_add": f"[{self._shop_time(cmd.orders_since)},{self._shop_time(until)}]"}
        if int_field(row, "id_shop"):
            filters["id_shop"] = f"[{int_field(row, 'id_shop')}]"
        elif int_field(row, "id_shop_group"):
            filters["id_shop_group"] = f"[{int_field(row, 'id_shop_group')}]"
        orders = self.ws.list("orders", filters=filters, display="[id,current_state]", date=True)
        known = set(cmd.known_orders)
        candidates = sorted({int_field(o, "id") for o in orders
                             if int_field(o, "id") not in known and int_field(o, "current_state") not in excluded_states})
        quantities: dict[int, int] = {}
        for start in range(0, len(candidates), IDS_PER_FILTER):
            chunk = candidates[start:start + IDS_PER_FILTER]
            lines = self.ws.list("order_details",
                                 filters={"id_order": one_of(chunk), "product_id": f"[{cmd.id_product}]",
                                          "product_attribute_id": f"[{cmd.id_product_attribute}]"},
                                 display="[id,id_order,product_id,product_attribute_id,product_quantity]")
            for line in lines:
                if (int_field(line, "product_id"), int_field(line, "product_attribute_id")) != \
                        (cmd.id_product, cmd.id_product_attribute):
                    continue
                order = int_field(line, "id_order")
                if order in chunk:
                    quantities[order] = quantities.get(order, 0) + int_field(line, "product_quantity")
        return {order: q for order, q in quantities.items() if q}

    # -- price ------------------------------------------------------------------------------------------
    def _product(self, cmd: ProductCommand) -> str:
        shop = {"id_shop": str(cmd.id_shop)}
        product = self.ws.get("products", cmd.id_product, params=shop)
        active = "1" if cmd.active else "0"
        if str(product.get("active") or 0) == active:   # PrestaShop leaves zero fields out of a record
            raise Skipped(f"product {cmd.id_product} active already {active}")
        self.ws.patch("products", "product", cmd.id_product, {"active": active}, params=shop)
        return f"product {cmd.id_product} active={active}"

    def _price(self, cmd: PriceCommand) -> str:
        shop = {"id_shop": str(cmd.id_shop)}
        product = self.ws.get("products", cmd.id_product, params=shop)
        base = decimal_field(product, "price")
        price = cmd.price.quantize(PRICE_STEP)
        if cmd.id_product_attribute == 0:
            if base.quantize(PRICE_STEP) == price:
                raise Skipped(f"product {cmd.id_product} price already {price}")
            self.ws.patch("products", "product", cmd.id_product, {"price": f"{price:f}"}, params=shop)
            return f"product {cmd.id_product} price={price}"
        combination = self.ws.get("combinations", cmd.id_product_attribute, params=shop)
        owner = int_field(combination, "id_product")
        if owner != cmd.id_product:
            raise PermanentFailure(f"combination {cmd.id_product_attribute} belongs to product {owner}, "
                                   f"not {cmd.id_product} (sku {cmd.sku})")
        impact = (price - base).quantize(PRICE_STEP)
        if decimal_field(combination, "price").quantize(PRICE_STEP) == impact:
            raise Skipped(f"combination {cmd.id_product_attribute} impact already {impact} (price {price})")
        self.ws.patch("combinations", "combination", cmd.id_product_attribute, {"price": f"{impact:f}"},
                      params=shop)
        return f"combination {cmd.id_product_attribute} impact={impact} (price {price} - base {base})"

    # -- orders -----------------------------------------------------------------------------------------
    def _order(self, id_order: int, shop_reference: str) -> dict[str, Any]:
        order = self.ws.get("orders", id_order)
        reference = str(order.get("reference") or "")
        if reference and reference != shop_reference:
            raise PermanentFailure(f"order {id_order} is {reference!r} in the shop, not {shop_reference!r}")
        return order

    def _email_params(self) -> dict[str, str]:
        return {"sendemail": "1"} if self.ws_settings.send_email else {}

    def _order_state(self, cmd: OrderStateCommand) -> str:
        order = self._order(cmd.id_order, cmd.shop_reference)
        id_shop = int_field(order, "id_shop")
        state = self.config_ids([cmd.state_key], id_shop)[cmd.state_key]
        owned = {}
        for key in self.settings.sinks.shop_owned_states:
            try:
                owned[self.config_ids([key], id_shop)[key]] = key
            except PermanentFailure:      # a state this shop does not have cannot hold an order
                continue
        holding = shop_owned_state([int_field(order, "current_state")], owned, state)
        if holding is not None:
            raise Skipped(f"order {cmd.id_order} is in {owned[holding]} ({holding}), which the shop owns: the "
                          f"ERP's {cmd.erp_state!r} ({cmd.state_key}) does not take it out")
        if int_field(order, "current_state") == state:
            raise Skipped(f"order {cmd.id_order} already in state {state} ({cmd.state_key})")
        created = self.ws.post("order_histories", "order_history",
                               {"id_order": cmd.id_order, "id_order_state": state}, params=self._email_params())
        history = f" (order_history {created['id']})" if created.get("id") else ""
        return f"order {cmd.id_order} state {state} ({cmd.state_key}){history}"

    def _tracking(self, cmd: TrackingCommand) -> str:
        self._order(cmd.id_order, cmd.shop_reference)
        carriers = self.ws.list("order_carriers", filters={"id_order": f"[{cmd.id_order}]"})
        if not carriers:
            raise PermanentFailure(f"order {cmd.id_order} has no order_carrier row")
        latest = max(carriers, key=lambda r: int_field(r, "id"))
        carrier_id = int_field(latest, "id")
        if str(latest.get("tracking_number") or "") == cmd.tracking_number:
            raise Skipped(f"order_carrier {carrier_id} already has tracking number {cmd.tracking_number}")
        self.ws.patch("order_carriers", "order_carrier", carrier_id, {"tracking_number": cmd.tracking_number},
                      params=self._email_params())
        return f"order_carrier {carrier_id} tracking_number={cmd.tracking_number}"
