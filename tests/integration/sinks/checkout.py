"""A PrestaShop 8.x checkout (``PaymentModule::validateOrder``) as it reaches the database:
no transaction, every statement commits on its own (autocommit), in the order the core runs them:

1. the order header (``current_state`` 0 until the first history row);
2. per line: the ``order_detail`` row, then ``StockAvailable::updateQuantity`` on the line's stock
   row (by primary key) and, for a combination, ``postSave()``: the product-level row rewritten
   with the sum of the combinations (read, then written by primary key);
3. the ``order_carrier`` row;
4. the first ``order_history`` row and ``orders.current_state``/``valid``;
5. ``StockManager::updatePhysicalProductQuantity(shop, ERROR, CANCELED, null, id_order)``: the two
   multi-row UPDATEs that recompute ``reserved_quantity`` (from a subquery over the open orders,
   which InnoDB reads with shared locks) and ``physical_quantity`` for the order's products.

One deviation: the core writes ``quantity = <value read> + delta`` through ObjectModel; here the
decrement is relative (``quantity = quantity - q``), with the same row lock, so that concurrent
checkouts do not lose each other's decrements and the final stock can be checked exactly.
A failed statement is not retried: the checkout fails, as it does in PrestaShop. Give the lines
in product order: with two products in opposite orders, the core's recompute statements of two
checkouts deadlock with each other, whatever else runs.
"""
from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from pssync.devstack.shop import Line


@dataclass(frozen=True)
class Placed:
    id_order: int
    reference: str
    lines: tuple[Line, ...]


class Checkout:
    """One shop front-office worker: its own autocommit connection, like a PHP request's."""

    def __init__(self, conn_params: dict[str, Any], database: str, prefix: str = "ps_") -> None:
        self.p = prefix
        self.statement = ""              # the last statement sent: the one that failed, after a failure
        self.conn = pymysql.connect(**{**conn_params, "database": database}, autocommit=True,
                                    cursorclass=pymysql.cursors.DictCursor)
        self._one("SET sql_mode=''")          # as PrestaShop's Db class sets it
        self._one("SET time_zone='+00:00'")
        config = {r["name"]: int(r["value"]) for r in self._all(
            f"SELECT name, value FROM {self.p}configuration WHERE name IN "
            "('PS_OS_CHEQUE', 'PS_OS_ERROR', 'PS_OS_CANCELED') AND id_shop IS NULL")}
        self.state, self.error, self.canceled = config["PS_OS_CHEQUE"], config["PS_OS_ERROR"], config["PS_OS_CANCELED"]
        self.logable = bool(self._all(f"SELECT logable FROM {self.p}order_state WHERE id_order_state=%s",
                                      (self.state,))[0]["logable"])

    def close(self) -> None:
        self.conn.close()

    def _all(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def _one(self, sql: str, args: Any = None) -> int:
        self.statement = sql
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.lastrowid

    def place(self, lines: list[Line]) -> Placed:
        p, now = self.p, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        reference = "".join(random.choices(string.ascii_uppercase, k=9))
        id_order = self._one(
            f"INSERT INTO {p}orders (reference, id_shop_group, id_shop, id_carrier, id_lang, id_customer, id_cart, "
            "id_currency, id_address_delivery, id_address_invoice, current_state, secure_key, payment, "
            "conversion_rate, module, total_paid, total_paid_real, total_products, total_products_wt, "
            "invoice_date, delivery_date, valid, date_add, date_upd) VALUES (%s, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, "
            "%s, 'Payment by check', 1, 'ps_checkpayment', 10, 0, 10, 10, '0000-00-00 00:00:00', "
            "'0000-00-00 00:00:00', 0, %s, %s)", (reference, "0" * 32, now, now))
        for line in lines:
            self._one(f"INSERT INTO {p}order_detail (id_order, id_shop, product_id, product_attribute_id, "
                      "product_name, product_quantity, product_quantity_in_stock, product_price, "
                      "unit_price_tax_incl, unit_price_tax_excl, total_price_tax_incl, total_price_tax_excl, "
                      "product_reference, original_product_price) VALUES (%s, 1, %s, %s, 'x', %s, %s, 1, 1, 1, "
                      "1, 1, '', 1)", (id_order, line.id_product, line.id_product_attribute, line.quantity,
                                       line.quantity))
            self._update_quantity(line)
        self._one(f"INSERT INTO {p}order_carrier (id_order, id_carrier, weight, shipping_cost_tax_excl, "
                  "shipping_cost_tax_incl, tracking_number, date_add) VALUES (%s, 1, 0, 7, 7, NULL, %s)",
                  (id_order, now))
        self._one(f"INSERT INTO {p}order_history (id_employee, id_order, id_order_state, date_add) "
                  "VALUES (0, %s, %s, %s)", (id_order, self.state, now))
        self._one(f"UPDATE {p}orders SET current_state=%s, valid=%s, date_upd=%s WHERE id_order=%s",
                  (self.state, int(self.logable), now, id_order))
        self._recompute(id_order)
        return Placed(id_order, reference, tuple(lines))

    def _update_quantity(self, line: Line) -> None:
        p = self.p
        row = self._all(f"SELECT id_stock_available FROM {p}stock_available WHERE id_product=%s "
                        "AND id_product_attribute=%s AND id_shop=1", (line.id_product, line.id_product_attribute))
        self._one(f"UPDATE {p}stock_available SET quantity=quantity-%s WHERE id_stock_available=%s",
                  (line.quantity, row[0]["id_stock_available"]))
        if line.id_product_attribute:       # postSave(): the product-level row is the combinations' sum
            total = self._all(f"SELECT SUM(quantity) AS q FROM {p}stock_available WHERE id_product=%s "
                              "AND id_product_attribute<>0 AND id_shop=1", (line.id_product,))[0]["q"]
            level = self._all(f"SELECT id_stock_available FROM {p}stock_available WHERE id_product=%s "
                              "AND id_product_attribute=0 AND id_shop=1", (line.id_product,))
            self._one(f"UPDATE {p}stock_available SET quantity=%s WHERE id_stock_available=%s",
                      (int(total), level[0]["id_stock_available"]))

    def _recompute(self, id_order: int) -> None:
        """StockManager::updatePhysicalProductQuantity with the order id (PrestaShop 8.x SQL)."""
        p = self.p
        self._one(
            f"UPDATE {p}stock_available sa INNER JOIN (SELECT product_id FROM {p}order_detail WHERE id_order=%s) od2 "
            "ON sa.id_product = od2.product_id SET sa.reserved_quantity = ("
            f"SELECT SUM(od.product_quantity - od.product_quantity_refunded) FROM {p}orders o "
            f"INNER JOIN {p}order_detail od ON od.id_order = o.id_order "
            f"INNER JOIN {p}order_state os ON os.id_order_state = o.current_state "
            "WHERE o.id_shop = 1 AND os.shipped != 1 AND (o.valid = 1 OR (os.id_order_state != %s AND "
            "os.id_order_state != %s)) AND sa.id_product = od.product_id AND "
            "sa.id_product_attribute = od.product_attribute_id GROUP BY od.product_id, od.product_attribute_id) "
            "WHERE sa.id_shop = 1", (id_order, self.error, self.canceled))
        self._one(
            f"UPDATE {p}stock_available sa INNER JOIN (SELECT product_id FROM {p}order_detail WHERE id_order=%s) od "
            "ON sa.id_product = od.product_id SET sa.physical_quantity = sa.quantity + sa.reserved_quantity "
            "WHERE sa.id_shop = 1", (id_order,))
