"""ERP-owned values -> the shop (on the shop-events stream, partitioned by SKU), and the shop-side
edits of them.

ERP stock levels go to the stock processor (by product); ERP prices and product flags become shop
commands. Each SKU's latest value is kept (``keep_latest``) with the partition holding it: sent
when the SKU's mapping arrives if it came first, and sent again after a shop-side edit
(``reassert``). Shop product rows are compared with the ownership rules: a shop-side change of an
ERP-owned field is never propagated, it becomes an ownership violation.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any

from pssync.streams.clock import Clock, utc_now
from pssync.streams.outputs import Outputs
from pssync.streams.routes import sku_key
from pssync.streams.rules import Rules
from pssync.streams.shop_commands import price_command, product_command
from pssync.streams.state import ShopState, Table

log = logging.getLogger(__name__)


def keep_latest(table: Table, partition: int, event: dict[str, Any], **fields: Any) -> dict[str, Any] | None:
    """Store an ERP value of a SKU unless an ERP change newer than it is already held (stored as
    strings, sent again when the mapping arrives or after a violation); None when it is older."""
    known = table.get(event["sku"])
    if known and dt.datetime.fromisoformat(known["changed_at"]) > event["changed_at"]:
        return None
    value = {**fields, "changed_at": event["changed_at"].isoformat(), "version": event["version"],
             "partition": partition}
    table[event["sku"]] = value
    return value


class ErpValues:
    def __init__(self, state: ShopState, rules: Rules, outputs: Outputs, *, id_shop: int,
                 reassert: bool, table_prefix: str, now: Clock = utc_now) -> None:
        self.state = state
        self.refs = state.refs
        self.rules = rules
        self.outputs = outputs
        self.id_shop = id_shop
        self.reassert = reassert            # streams.reassert_erp_values
        self.table_prefix = table_prefix    # mysql.table_prefix, in violation events
        self.now = now

    # ---- ERP events ---------------------------------------------------------------------------------
    async def on_erp_stock(self, partition: int, event: dict[str, Any]) -> None:
        level = {"quantity": str(event["quantity"]), "as_of": event["as_of"].isoformat(), "mode": event["mode"],
                 "snapshot_id": event.get("snapshot_id"), "version": event["version"], "partition": partition}
        known = self.state.erp_levels.get(event["sku"])
        if known is None or dt.datetime.fromisoformat(known["as_of"]) <= event["as_of"]:
            self.state.erp_levels[event["sku"]] = level
        row = self.refs.row(partition, event["sku"])
        if row is None:
            log.debug("ERP SKU %s is not (yet) mapped to a shop product", event["sku"])
            return
        await self.send_level(event["sku"], row, level, f"erp-stock:{event['version']}")

    async def on_erp_price(self, partition: int, event: dict[str, Any]) -> None:
        price = keep_latest(self.state.erp_prices, partition, event, price=str(event["list_price"]))
        if price is not None:
            await self.send_price(partition, event["sku"], price, f"erp-price:{event['version']}")

    async def on_erp_product(self, partition: int, event: dict[str, Any]) -> None:
        product = keep_latest(self.state.erp_products, partition, event, active=bool(event["active"]))
        if product is not None:
            await self.send_product(partition, event["sku"], product, f"erp-product:{event['version']}")

    async def mapped(self, partition: int, sku: str, row: tuple[int, int]) -> None:
        """The SKU was just mapped to ``row``: ERP values that arrived before the mapping are sent now,
        not lost (by the partition holding them)."""
        s = self.state
        level = s.erp_levels.get(sku)
        if level is not None and level["partition"] == partition:
            await self.send_level(sku, row, level, f"mapping:{sku}:{level['version']}")
        price = s.erp_prices.get(sku)
        if price is not None and price["partition"] == partition:
            await self.send_price(partition, sku, price, f"mapping:{sku}:{price['version']}")
        product = s.erp_products.get(sku)
        if product is not None and product["partition"] == partition:
            await self.send_product(partition, sku, product, f"mapping:{sku}:{product['version']}")

    async def on_reassert(self, partition: int, request: dict[str, Any]) -> None:
        """Send the ERP's value of an ERP-owned column again after a shop-side edit."""
        sku, column, trigger = request["sku"], request["column"], request["trigger"]
        if column == "price" and (known := self.state.erp_prices.get(sku)) is not None:
            sent = await self.send_price(partition, sku, known, trigger)
        elif column == "active" and (known := self.state.erp_products.get(sku)) is not None:
            sent = await self.send_product(partition, sku, known, trigger)
        else:
            sent = False
        if sent:
            log.info("re-asserted the ERP %s of %s", column, sku)

    # ---- what goes out ------------------------------------------------------------------------------
    async def send_level(self, sku: str, row: tuple[int, int], level: dict[str, Any], trigger: str) -> None:
        await self.outputs.stock_event(row[0], "stock.level", sku=sku, attribute=row[1], quantity=level["quantity"],
                                       as_of=level["as_of"], mode=level["mode"], snapshot_id=level["snapshot_id"],
                                       trigger=trigger)

    async def send_price(self, partition: int, sku: str, price: dict[str, Any], trigger: str) -> bool:
        row = self.refs.row(partition, sku)
        if row is None:
            return False            # not (yet) mapped: sent when the mapping arrives
        await self.outputs.shop_command(price_command(sku, row, Decimal(price["price"]),
                                                      dt.datetime.fromisoformat(price["changed_at"]), trigger,
                                                      self.id_shop, self.now()))
        return True

    async def send_product(self, partition: int, sku: str, product: dict[str, Any], trigger: str) -> bool:
        row = self.refs.row(partition, sku)
        command = None if row is None else product_command(
            sku, row, product["active"], dt.datetime.fromisoformat(product["changed_at"]), trigger, self.id_shop,
            self.now())
        if command is None:
            return False
        await self.outputs.shop_command(command)
        return True

    # ---- shop-side edits ------------------------------------------------------------------------------
    async def on_product_row(self, partition: int, table: str, event: dict[str, Any], echo: bool) -> None:
        """A shop product row (product, product_shop, product_attribute, specific_price,
        stock_available): an update that is not our own sink's write is looked at for violations."""
        if not echo and event["op"] == "u":
            await self.report_violations(partition, table, event)

    async def report_violations(self, partition: int, table: str, event: dict[str, Any]) -> None:
        """Shop-side changes to ERP-owned fields are never propagated: each becomes an ownership
        violation event with its before/after values (our own sink's writes carry the echo marker
        and are not looked at)."""
        for found in self.rules.violations(table, event["before"], event["after"]):
            key = {c: event["after"].get(c) for c in ("id_product", "id_product_attribute", "id_shop",
                                                      "id_specific_price", "id_stock_available")
                   if c in event["after"]}
            await self.outputs.violation(key, {
                "table": self.table_prefix + found.table, "column": found.column,
                "key": key, "before": found.before, "after": found.after, "owner": found.owner,
                "entity": found.entity, "gtid": event["source"].get("gtid"),
                "ts_ms": event["source"].get("ts_ms")})
            log.warning("ownership violation: %s.%s %r -> %r (owned by %s)", found.table, found.column,
                        found.before, found.after, found.owner)
            if self.reassert and found.owner == "erp" and found.column in ("price", "active"):
                sku = self.refs.sku(partition, event["after"]["id_product"],
                                    event["after"].get("id_product_attribute") or 0)
                if sku is not None:      # the ERP's value lives in the SKU's partition
                    await self.outputs.to_hub("shop", sku_key(sku), json.dumps({
                        "sku": sku, "column": found.column,
                        "trigger": f"reassert:{event['source'].get('gtid')}:{table}"}).encode(), "reassert")
