"""The scripted scenario of `bash deploy/run.sh`: orders placed in the shop reach Tryton; stock and a
price changed in Tryton, and an order shipped there, reach the shop. Prints each side as it goes."""
from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pymysql
import pymysql.cursors

from pssync.devstack import erp_actions
from pssync.devstack.settings import StackSettings
from pssync.devstack.shop import Line, configuration, place_order

T = TypeVar("T")
PREFIX = "ps_"


class ScenarioFailed(Exception):
    pass


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 90) -> T:
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        value = probe()
        if value is not None and value is not False:
            say(f"  ok after {time.monotonic() - started:.1f}s: {what}")
            return value
        time.sleep(0.25)
    raise ScenarioFailed(f"timed out after {timeout:.0f}s waiting for: {what} "
                         f"(see `pssync services status` and the logs under .stack/logs)")


class Shop:
    def __init__(self, stack: StackSettings) -> None:
        self.stack = stack
        self.params = stack.mysql_params()

    def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = pymysql.connect(**self.stack.mysql_params(self.stack.database), autocommit=True,
                               cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = self.query(sql, *args)
        return rows[0] if rows else None

    def stock(self, id_product: int, id_product_attribute: int) -> int:
        row = self.one(f"SELECT quantity FROM {PREFIX}stock_available WHERE id_product=%s "
                       "AND id_product_attribute=%s AND id_shop=1", id_product, id_product_attribute)
        return int(row["quantity"]) if row else 0

    def state_id(self, name: str) -> int:
        conn = pymysql.connect(**self.stack.mysql_params(self.stack.database), cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                return int(configuration(cur, PREFIX, name))
        finally:
            conn.close()

    def shop_reference(self, id_order: int) -> str:
        row = self.one(f"SELECT reference FROM {PREFIX}orders WHERE id_order=%s", id_order)
        assert row is not None
        return f"{row['reference']}-{id_order}"


def run(stack: StackSettings) -> None:
    shop = Shop(stack)
    erp = erp_actions.tryton(stack)

    say("1. Two customers check out in the shop (paid orders):")
    orders = [place_order(shop.params, stack.database, PREFIX, [Line(1, 1, 2), Line(6, 0, 1)],
                          state_key="PS_OS_PAYMENT"),
              place_order(shop.params, stack.database, PREFIX, [Line(6, 0, 2)], state_key="PS_OS_PAYMENT")]
    references = [shop.shop_reference(o) for o in orders]
    for id_order, ref in zip(orders, references):
        say(f"   shop order {id_order} ({ref}); shop stock of demo_11 now {shop.stock(6, 0)}")
    for ref in references:
        sale = wait_for(f"Tryton sale for shop order {ref}", lambda ref=ref: erp.find_sales_order(ref))
        say(f"   Tryton sale id {sale} created from {ref}")

    say("2. The warehouse receives 25 x demo_11 in Tryton, and its price changes to 13.50:")
    erp_actions.receive_stock(erp, "demo_11", 25)
    erp_actions.set_price(erp, Decimal("13.50"), "demo_11")
    expected = int(erp_actions.forecast(erp, "demo_11"))
    say(f"   Tryton forecast quantity of demo_11: {expected} (its own orders already subtracted)")
    wait_for(f"ps_stock_available of product 6 = {expected}", lambda: shop.stock(6, 0) == expected)
    wait_for("ps_product.price of product 6 = 13.50", lambda: (r := shop.one(
        f"SELECT price FROM {PREFIX}product WHERE id_product=6")) and Decimal(r["price"]) == Decimal("13.5"))

    say(f"3. Tryton ships shop order {orders[0]} with tracking number 1Z-DEMO-{orders[0]}:")
    erp_actions.ship(erp, references[0], f"1Z-DEMO-{orders[0]}")
    shipped = shop.state_id("PS_OS_SHIPPING")
    wait_for("ps_order_carrier.tracking_number", lambda: (r := shop.one(
        f"SELECT tracking_number FROM {PREFIX}order_carrier WHERE id_order=%s ORDER BY id_order_carrier DESC",
        orders[0])) and r["tracking_number"])
    wait_for(f"ps_orders.current_state = PS_OS_SHIPPING ({shipped})", lambda: (r := shop.one(
        f"SELECT current_state FROM {PREFIX}orders WHERE id_order=%s", orders[0])) and r["current_state"] == shipped)

    say("What each side holds now:")
    for row in shop.query(
            f"SELECT o.id_order, o.reference, o.current_state, c.tracking_number FROM {PREFIX}orders o "
            f"LEFT JOIN {PREFIX}order_carrier c ON c.id_order=o.id_order WHERE o.id_order IN %s", orders):
        say(f"   shop  order {row['id_order']} {row['reference']} state={row['current_state']} "
            f"tracking={row['tracking_number']}")
    for ref in references:
        sale = erp.search_read("sale.sale", [("reference", "=", ref)], ["id", "number", "state", "shipment_state"])
        say(f"   Tryton sale {sale[0]['number']} ({ref}) state={sale[0]['state']} "
            f"shipment={sale[0]['shipment_state']}")
    say(f"   shop  demo_11 stock={shop.stock(6, 0)} price="
        f"{shop.one(f'SELECT price FROM {PREFIX}product WHERE id_product=6')['price']}; "
        f"Tryton forecast={erp_actions.forecast(erp, 'demo_11')}")
    say("Latest sync-log rows (pssync sink log):")
    for row in shop.query("SELECT attempted_at, direction, resource, external_id, operation, outcome, detail "
                          "FROM pssync_sync_log ORDER BY id DESC LIMIT 12"):
        say(f"   {row['attempted_at']:%H:%M:%S} {row['direction']:7} {row['resource']}/{row['external_id']} "
            f"{row['operation']} {row['outcome']} {row['detail'] or ''}")
