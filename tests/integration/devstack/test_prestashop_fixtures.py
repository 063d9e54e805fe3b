"""The devstack's PrestaShop fixtures (deploy/prestashop/schema.sql, loaded by
devstack.load_prestashop_fixtures) define their tables as PrestaShop 8.2.0 does: the facts
checked on a real 8.2.0 install (shared/reference/prestashop.md), read back from the server."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

DOCTRINE_TABLES = ("ps_lang", "ps_lang_shop", "ps_shop", "ps_shop_group", "ps_stock_mvt")


def column_types(scratch, table: str) -> dict[str, str]:
    rows = scratch.sql("SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY ORDINAL_POSITION",
                       args=(scratch.database, table))
    return {r["name"]: r["type"] for r in rows}


def primary_key(scratch, table: str) -> list[str]:
    rows = scratch.sql("SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s "
                       "AND TABLE_NAME=%s AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX",
                       args=(scratch.database, table))
    return [r["name"] for r in rows]


def test_columns_and_indexes_are_those_of_prestashop_8_2_0(scratch):
    assert "date_novelty" not in column_types(scratch, "ps_product")
    assert "date_novelty" not in column_types(scratch, "ps_product_shop")
    indexed = {r["name"] for r in scratch.sql(
        "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s AND TABLE_NAME='ps_orders'",
        args=(scratch.database,))}
    assert "invoice_date" not in indexed and "date_add" in indexed
    assert column_types(scratch, "ps_orders")["reference"] == "varchar(9)"
    stock_mvt = column_types(scratch, "ps_stock_mvt")
    assert (stock_mvt["employee_firstname"], stock_mvt["employee_lastname"], stock_mvt["physical_quantity"]) == (
        "varchar(255)", "varchar(255)", "int(10) unsigned")
    mediumtext = [("ps_address", "other"), ("ps_configuration", "value"), ("ps_customer", "note"),
                  ("ps_orders", "gift_message"), ("ps_orders", "note"), ("ps_order_detail", "product_name"),
                  ("ps_order_invoice", "shop_address"), ("ps_order_invoice", "note"),
                  ("ps_product_lang", "description"), ("ps_product_lang", "description_short")]
    assert [column_types(scratch, t)[c] for t, c in mediumtext] == ["mediumtext"] * len(mediumtext)


def test_doctrine_tables_use_unicode_collation_and_the_others_general(scratch):
    collations = {r["name"]: r["collation"] for r in scratch.sql(
        "SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA=%s", args=(scratch.database,))}
    assert {t: collations[t] for t in DOCTRINE_TABLES} == dict.fromkeys(DOCTRINE_TABLES, "utf8mb4_unicode_ci")
    assert {c for t, c in collations.items() if t not in DOCTRINE_TABLES} == {"utf8mb4_general_ci"}


def test_cart_payment_slip_and_group_tables_are_there_as_8_2_0_defines_them(scratch):
    assert primary_key(scratch, "ps_cart") == ["id_cart"]
    cart = column_types(scratch, "ps_cart")
    assert (cart["delivery_option"], cart["checkout_session_data"], cart["id_guest"]) == (
        "mediumtext", "mediumtext", "int(10) unsigned")
    # id_address_delivery is in the key (Cart::updateAddressId updates it)
    assert primary_key(scratch, "ps_cart_product") == [
        "id_cart", "id_product", "id_product_attribute", "id_customization", "id_address_delivery"]
    assert primary_key(scratch, "ps_customer_group") == ["id_customer", "id_group"]
    payment = column_types(scratch, "ps_order_payment")
    assert (payment["order_reference"], payment["amount"], payment["card_expiration"], payment["id_employee"]) == (
        "varchar(9)", "decimal(20,6)", "char(7)", "int(11)")
    assert primary_key(scratch, "ps_order_invoice_tax") == []      # no primary key in 8.2.0, like order_detail_tax
    assert primary_key(scratch, "ps_order_detail_tax") == []
    assert column_types(scratch, "ps_order_invoice_tax") == {
        "id_order_invoice": "int(11)", "type": "varchar(15)", "id_tax": "int(11)", "amount": "decimal(10,6)"}
    slip = column_types(scratch, "ps_order_slip")
    assert (slip["total_products_tax_incl"], slip["shipping_cost"], slip["order_slip_type"]) == (
        "decimal(20,6)", "tinyint(3) unsigned", "tinyint(1) unsigned")
