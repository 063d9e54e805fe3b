"""information_schema rows for PrestaShop tables, with PrestaShop 8's real columns and types."""
from pssync.cdc.columns import TableDef, column_from_catalogue


def _col(name: str, column_type: str, precision=None, scale=None):
    data_type = column_type.split("(")[0].split(" ")[0]
    return {"COLUMN_NAME": name, "DATA_TYPE": data_type, "COLUMN_TYPE": column_type,
            "NUMERIC_PRECISION": precision, "NUMERIC_SCALE": scale, "DATETIME_PRECISION": 0}


_money = [f"total_{n}" for n in ("discounts", "discounts_tax_incl", "discounts_tax_excl", "paid",
                                 "paid_tax_incl", "paid_tax_excl", "paid_real", "products",
                                 "products_wt", "shipping", "shipping_tax_incl", "shipping_tax_excl",
                                 "wrapping", "wrapping_tax_incl", "wrapping_tax_excl")]

PS_ORDERS_CATALOGUE = [
    _col("id_order", "int(10) unsigned"),
    _col("reference", "varchar(9)"),
    *[_col(n, "int(11) unsigned") for n in ("id_shop_group", "id_shop", "id_carrier", "id_lang",
                                            "id_customer", "id_cart", "id_currency",
                                            "id_address_delivery", "id_address_invoice",
                                            "current_state")],
    _col("secure_key", "varchar(32)"),
    _col("payment", "varchar(255)"),
    _col("conversion_rate", "decimal(13,6)", 13, 6),
    _col("module", "varchar(255)"),
    _col("recyclable", "tinyint(1) unsigned"),
    _col("gift", "tinyint(1) unsigned"),
    _col("gift_message", "text"),
    _col("mobile_theme", "tinyint(1)"),
    *[_col(n, "decimal(20,6)", 20, 6) for n in _money],
    _col("carrier_tax_rate", "decimal(10,3)", 10, 3),
    _col("invoice_number", "int(10) unsigned"),
    _col("delivery_number", "int(10) unsigned"),
    _col("invoice_date", "datetime"),
    _col("delivery_date", "datetime"),
    _col("valid", "int(1) unsigned"),
    _col("date_add", "datetime"),
    _col("date_upd", "datetime"),
    _col("note", "text"),
    _col("round_mode", "tinyint(1)"),
    _col("round_type", "tinyint(1)"),
]

PS_STOCK_AVAILABLE_CATALOGUE = [
    _col("id_stock_available", "int(11) unsigned"),
    _col("id_product", "int(11) unsigned"),
    _col("id_product_attribute", "int(11) unsigned"),
    _col("id_shop", "int(11) unsigned"),
    _col("id_shop_group", "int(11) unsigned"),
    _col("quantity", "int(10)"),
    _col("physical_quantity", "int(11)"),
    _col("reserved_quantity", "int(11)"),
    _col("depends_on_stock", "tinyint(1) unsigned"),
    _col("out_of_stock", "tinyint(1) unsigned"),
    _col("location", "varchar(255)"),
]


def stock_available_table() -> TableDef:
    cols = tuple(column_from_catalogue(r, r["COLUMN_NAME"] == "id_stock_available")
                 for r in PS_STOCK_AVAILABLE_CATALOGUE)
    return TableDef("prestashop", "ps_stock_available", cols, ("id_stock_available",))
