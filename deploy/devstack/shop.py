"""A stand-in for the shop's front office on the local stack: places an order the way
PrestaShop's PaymentModule::validateOrder leaves the database (orders, order_detail with stock
decremented on the combination and product-level rows, reserved/physical quantities, order_carrier,
the first order_history row), and moves orders from state to state as OrderHistory does, so the
capture has realistic changes to read."""
from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymysql
import pymysql.cursors


@dataclass(frozen=True)
class Line:
    id_product: int
    id_product_attribute: int
    quantity: int


def configuration(cur: Any, prefix: str, name: str) -> str:
    cur.execute(f"SELECT value FROM {prefix}configuration WHERE name=%s "
                "ORDER BY id_shop IS NULL, id_shop_group IS NULL LIMIT 1", (name,))
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"{prefix}configuration has no {name}")
    return row["value"]


def place_order(conn_params: dict[str, Any], database: str, prefix: str, lines: list[Line],
                id_customer: int = 1, state_key: str = "PS_OS_CHEQUE", atomic: bool = False) -> int:
    """Place an order as PaymentModule::validateOrder writes it: no transaction, each statement
    committed on its own, in its order — the order header; per line its order_detail row, then
    the stock decrement on the combination row, then on the product-level row; the order_carrier
    row; the first order_history row; then the reserved quantities. So the capture (and the
    processors) see an order arrive in pieces, as from a real shop. ``atomic`` writes the same
    statements in one transaction (what a module that wraps validateOrder in one would leave)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    conn = pymysql.connect(**{**conn_params, "database": database}, autocommit=not atomic,
                           cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute("SET sql_mode=''")
            state = int(configuration(cur, prefix, state_key))
            cur.execute(f"SELECT id_address FROM {prefix}address WHERE id_customer=%s AND deleted=0 "
                        "ORDER BY id_address DESC LIMIT 1", (id_customer,))
            address = cur.fetchone()["id_address"]
            priced = []
            for line in lines:
                cur.execute(
                    f"SELECT p.reference, p.price + COALESCE(pa.price, 0) AS unit, pl.name "
                    f"FROM {prefix}product p LEFT JOIN {prefix}product_attribute pa "
                    f"ON pa.id_product_attribute=%s AND pa.id_product=p.id_product "
                    f"JOIN {prefix}product_lang pl ON pl.id_product=p.id_product AND pl.id_lang=1 "
                    f"AND pl.id_shop=1 WHERE p.id_product=%s", (line.id_product_attribute, line.id_product))
                product = cur.fetchone()
                if product is None:
                    raise LookupError(f"no product {line.id_product}")
                priced.append((line, product, Decimal(product["unit"])))
            products = sum((unit * line.quantity for line, _, unit in priced), Decimal(0))
            shipping = Decimal("7.000000")
            reference = "".join(random.choices(string.ascii_uppercase, k=9))
            cur.execute(
                f"INSERT INTO {prefix}orders (reference, id_shop_group, id_shop, id_carrier, id_lang, "
                "id_customer, id_cart, id_currency, id_address_delivery, id_address_invoice, current_state, "
                "secure_key, payment, conversion_rate, module, total_paid, total_paid_tax_incl, "
                "total_paid_tax_excl, total_paid_real, total_products, total_products_wt, total_shipping, "
                "total_shipping_tax_incl, total_shipping_tax_excl, invoice_date, delivery_date, valid, "
                "date_add, date_upd) VALUES (%s, 1, 1, 1, 1, %s, 0, 1, %s, %s, %s, %s, "
                "'Payment by check', 1.000000, 'ps_checkpayment', %s, %s, %s, 0, %s, %s, %s, %s, %s, "
                "'0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, %s, %s)",
                (reference, id_customer, address, address, state, "".join(random.choices("0123456789abcdef", k=32)),
                 products + shipping, products + shipping, products + shipping, products, products,
                 shipping, shipping, shipping, now, now))
            id_order = cur.lastrowid
            for line, product, unit in priced:
                total = unit * line.quantity
                cur.execute(
                    f"INSERT INTO {prefix}order_detail (id_order, id_shop, product_id, product_attribute_id, "
                    "product_name, product_quantity, product_quantity_in_stock, product_price, "
                    "unit_price_tax_incl, unit_price_tax_excl, total_price_tax_incl, total_price_tax_excl, "
                    "product_reference, original_product_price) "
                    "VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (id_order, line.id_product, line.id_product_attribute, product["name"], line.quantity,
                     line.quantity, unit, unit, unit, total, total, product["reference"], unit))
                # StockAvailable::updateQuantity: the combination's row, then postSave() on the
                # product-level row
                for attribute in sorted({line.id_product_attribute, 0}, reverse=True):
                    cur.execute(f"UPDATE {prefix}stock_available SET quantity = quantity - %s "
                                "WHERE id_product=%s AND id_product_attribute=%s AND id_shop=1",
                                (line.quantity, line.id_product, attribute))
            cur.execute(
                f"INSERT INTO {prefix}order_carrier (id_order, id_carrier, weight, shipping_cost_tax_excl, "
                "shipping_cost_tax_incl, tracking_number, date_add) VALUES (%s, 1, 0, %s, %s, NULL, %s)",
                (id_order, shipping, shipping, now))
            cur.execute(
                f"INSERT INTO {prefix}order_history (id_employee, id_order, id_order_state, date_add) "
                "VALUES (0, %s, %s, %s)", (id_order, state, now))
            # updatePhysicalProductQuantity: the order's units reserved, rows in primary-key order
            for line, _, _ in sorted(priced, key=lambda p: (p[0].id_product, p[0].id_product_attribute)):
                cur.execute(f"UPDATE {prefix}stock_available SET reserved_quantity = reserved_quantity + %s "
                            "WHERE id_product=%s AND id_product_attribute IN (%s, 0) AND id_shop=1",
                            (line.quantity, line.id_product, line.id_product_attribute))
        conn.commit()
        return id_order
    finally:
        conn.close()


def change_state(conn_params: dict[str, Any], database: str, prefix: str, id_order: int, state_key: str) -> int:
    """Move an order to the state ``state_key`` names the way OrderHistory::changeIdOrderState and
    addWithemail leave the database, statement by statement with no transaction (autocommit), as
    PrestaShop does: the lines' ``quantity`` (given back when the order enters a cancelled state,
    taken again when it leaves one for a valid state), ``ps_orders`` (current_state, valid,
    date_upd), the history row, then reserved and physical quantities. Returns the new state id."""
    conn = pymysql.connect(**{**conn_params, "database": database}, autocommit=True,
                           cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute("SET sql_mode=''")
            new = int(configuration(cur, prefix, state_key))
            out = {int(configuration(cur, prefix, key)) for key in ("PS_OS_CANCELED", "PS_OS_ERROR")}
            cur.execute(f"SELECT current_state FROM {prefix}orders WHERE id_order=%s", (id_order,))
            old = int(cur.fetchone()["current_state"])
            cur.execute(f"SELECT id_order_state, logable, shipped FROM {prefix}order_state "
                        "WHERE id_order_state IN (%s, %s)", (old, new))
            flags = {int(r["id_order_state"]): (bool(r["logable"]), bool(r["shipped"])) for r in cur.fetchall()}
            (old_logable, old_shipped), (new_logable, new_shipped) = flags.get(old, (False, False)), flags[new]
            if not old_logable and new_logable and old in out:
                sign = -1
            elif new in out and old not in out and (old_logable or not new_logable):
                sign = 1
            else:
                sign = 0

            def reserved(state: int, logable: bool, shipped: bool) -> int:
                return int(not shipped and (logable or state not in out))

            reserve = reserved(new, new_logable, new_shipped) - reserved(old, old_logable, old_shipped)
            cur.execute(f"SELECT product_id, IFNULL(product_attribute_id, 0) AS attr, product_quantity AS q "
                        f"FROM {prefix}order_detail WHERE id_order=%s", (id_order,))
            lines = [(int(r["product_id"]), int(r["q"]), sorted({0, int(r["attr"])})) for r in cur.fetchall()]
            if sign:
                for product, q, attrs in lines:
                    cur.execute(f"UPDATE {prefix}stock_available SET quantity = quantity + %s WHERE id_product=%s "
                                f"AND id_product_attribute IN ({','.join(['%s'] * len(attrs))}) AND id_shop=1",
                                (sign * q, product, *attrs))
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
            cur.execute(f"UPDATE {prefix}orders SET current_state=%s, valid=%s, date_upd=%s WHERE id_order=%s",
                        (new, int(new_logable), now, id_order))
            cur.execute(f"INSERT INTO {prefix}order_history (id_employee, id_order, id_order_state, date_add) "
                        "VALUES (0, %s, %s, %s)", (id_order, new, now))
            if reserve:
                for product, q, attrs in lines:
                    where = (f"WHERE id_product=%s AND id_product_attribute IN ({','.join(['%s'] * len(attrs))}) "
                             "AND id_shop=1")
                    cur.execute(f"UPDATE {prefix}stock_available SET reserved_quantity = "
                                f"GREATEST(0, reserved_quantity + %s) {where}", (reserve * q, product, *attrs))
                    cur.execute(f"UPDATE {prefix}stock_available SET physical_quantity = quantity + reserved_quantity "
                                f"{where}", (product, *attrs))
        return new
    finally:
        conn.close()
