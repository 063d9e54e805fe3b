"""streams/rules.py: the default rules load against the shop schema, every column has one owner,
bad files are rejected with the entity/table/column named, shop edits of ERP fields are found."""
from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from pssync.streams.rules import RulesError, Violation, columns_from_ddl, load_rules

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "deploy" / "prestashop" / "schema.sql"
DEFAULT_RULES = ROOT / "deploy" / "rules.yaml"


@pytest.fixture(scope="module")
def known():
    return columns_from_ddl(SCHEMA)


@pytest.fixture(scope="module")
def rules(known):
    return load_rules(DEFAULT_RULES, known)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_columns_from_ddl_reads_columns_not_keys(known):
    assert {"current_state", "note", "reference", "valid"} <= known["orders"]
    assert known["stock_available"] == {
        "id_stock_available", "id_product", "id_product_attribute", "id_shop", "id_shop_group",
        "quantity", "physical_quantity", "reserved_quantity", "depends_on_stock", "out_of_stock",
        "location"}
    # multi-line enum and multi-line UNIQUE KEY do not confuse the parser
    assert {"redirect_type", "id_type_redirected", "condition"} <= known["product"]
    assert len(known["specific_price"]) == 18
    assert not any(c in known["product"] for c in ("reference_idx", "PRIMARY", "KEY"))
    assert "PREFIX_orders" not in known and "orders" in known


def test_default_rules_load_and_give_each_column_its_owner(rules):
    assert rules.owner("product", "price") == "erp"
    assert rules.owner("ps_product_shop", "price") == "erp"
    assert rules.owner("product_attribute", "ean13") == "erp"
    assert rules.owner("specific_price", "reduction") == "erp"
    assert rules.owner("stock_available", "quantity") == "erp"
    assert rules.owner("stock_available", "out_of_stock") == "erp"
    assert rules.owner("stock_available", "reserved_quantity") is None   # core-maintained
    assert rules.owner("product", "id_category_default") == "erp"
    assert rules.owner("orders", "total_paid") == "prestashop"
    assert rules.owner("order_detail", "product_quantity") == "prestashop"
    assert rules.owner("customer", "email") == "prestashop"
    assert rules.owner("address", "city") == "prestashop"
    assert rules.owner("order_carrier", "tracking_number") == "erp"
    assert rules.claim("order_carrier", "tracking_number").flow == "erp_to_prestashop"


def test_current_state_has_one_owner_and_the_erp_drives_fulfilment_states(rules):
    assert rules.owner("orders", "current_state") == "prestashop"
    assert rules.claim("orders", "current_state").entity == "order"
    assert rules.state_owner("PS_OS_SHIPPING") == "erp"
    assert rules.state_owner("PS_OS_DELIVERED") == "erp"
    assert rules.state_owner("PS_OS_CANCELED") is None


def test_star_expands_to_every_column(rules, known):
    assert all(rules.owner("orders", c) == "prestashop" for c in known["orders"])
    assert rules.erp_owned_columns("specific_price") == known["specific_price"]


def test_all_except_leaves_the_excepted_column_to_its_own_entity(rules, known):
    for column in known["order_carrier"] - {"tracking_number"}:
        assert rules.owner("order_carrier", column) == "prestashop", column
    assert rules.erp_owned_columns("order_carrier") == {"tracking_number"}


def test_price_edited_in_back_office_is_a_violation(rules):
    before = {"id_product": 1, "price": Decimal("23.900000"), "date_upd": "2024-05-01 10:00:00"}
    after = {"id_product": 1, "price": Decimal("19.900000"), "date_upd": "2024-05-02 09:00:00"}
    assert rules.violations("ps_product", before, after) == [
        Violation("product", "price", Decimal("23.900000"), Decimal("19.900000"), "erp", "product")]


def test_equal_decimals_of_different_scale_are_no_change(rules):
    assert rules.violations("product", {"price": Decimal("23.9")}, {"price": Decimal("23.900000")}) == []


def test_order_note_change_is_not_a_violation(rules):
    assert rules.violations("orders", {"note": None, "current_state": 2},
                            {"note": "call before delivery", "current_state": 3}) == []


def test_several_erp_columns_are_all_reported(rules):
    before = {"reference": "demo_1", "ean13": "", "active": 1, "on_sale": 0}
    after = {"reference": "demo_1b", "ean13": "", "active": 0, "on_sale": 1}
    found = rules.violations("product", before, after)
    assert [(v.column, v.before, v.after) for v in found] == [("active", 1, 0), ("reference", "demo_1", "demo_1b")]


def test_checkout_decrement_of_stock_is_left_to_reconciliation(rules):
    # stock_available.quantity is ERP-owned but checkout changes it legitimately
    assert rules.violations("stock_available", {"quantity": 300, "out_of_stock": 2},
                            {"quantity": 298, "out_of_stock": 2}) == []
    found = rules.violations("stock_available", {"quantity": 300, "out_of_stock": 2},
                             {"quantity": 300, "out_of_stock": 1})
    assert [(v.column, v.entity) for v in found] == [("out_of_stock", "stock_policy")]


def test_insert_changes_no_field(rules):
    assert rules.violations("product", {}, {"price": Decimal("10"), "reference": "x"}) == []


def test_unknown_table_or_column_in_a_query_raises(rules):
    with pytest.raises(ValueError, match="prodcut"):
        rules.owner("prodcut", "price")
    with pytest.raises(ValueError, match="ps_product.colour"):
        rules.owner("product", "colour")


def test_column_with_two_owners_is_rejected_naming_both(tmp_path, known):
    path = write(tmp_path, """
        entities:
          order:
            owner: prestashop
            flow: prestashop_to_erp
            tables:
              orders: "*"
          fulfilment:
            owner: erp
            flow: erp_to_prestashop
            tables:
              orders: [current_state]
    """)
    with pytest.raises(RulesError) as err:
        load_rules(path, known)
    assert "ps_orders.current_state is owned by both prestashop (order) and erp (fulfilment)" in str(err.value)


def test_column_claimed_by_two_entities_of_one_owner_is_rejected(tmp_path, known):
    path = write(tmp_path, """
        entities:
          product:
            owner: erp
            flow: erp_to_prestashop
            tables: {product: [price]}
          price:
            owner: erp
            flow: erp_to_prestashop
            tables: {product: [price]}
    """)
    with pytest.raises(RulesError, match=r"ps_product.price is claimed by both entity 'product' and entity 'price'"):
        load_rules(path, known)


def test_unknown_column_is_rejected_naming_entity_table_and_column(tmp_path, known):
    path = write(tmp_path, """
        entities:
          product:
            owner: erp
            flow: erp_to_prestashop
            tables:
              product: [price, colour]
    """)
    with pytest.raises(RulesError) as err:
        load_rules(path, known)
    assert err.value.problems == ["entity 'product': unknown column ps_product.colour"]


def test_unknown_excepted_column_is_rejected(tmp_path, known):
    path = write(tmp_path, """
        entities:
          order:
            owner: prestashop
            flow: prestashop_to_erp
            tables:
              order_carrier: {all_except: [tracking_no]}
    """)
    with pytest.raises(RulesError, match=r"entity 'order': unknown column ps_order_carrier.tracking_no"):
        load_rules(path, known)


def test_unknown_table_is_rejected_naming_entity_and_table(tmp_path, known):
    path = write(tmp_path, """
        entities:
          category:
            owner: erp
            flow: erp_to_prestashop
            tables:
              category_product: "*"
    """)
    with pytest.raises(RulesError) as err:
        load_rules(path, known)
    assert err.value.problems == ["entity 'category': unknown table ps_category_product"]


def test_unknown_owner_and_flow_are_rejected_naming_the_entity(tmp_path, known):
    path = write(tmp_path, """
        entities:
          customer:
            owner: crm
            flow: prestashop_to_erp
            tables: {customer: "*"}
          address:
            owner: prestashop
            flow: sideways
            tables: {address: "*"}
    """)
    with pytest.raises(RulesError) as err:
        load_rules(path, known)
    text = str(err.value)
    assert "entity 'customer', owner" in text and "'crm'" in text
    assert "entity 'address', flow" in text and "'sideways'" in text


def test_flow_must_leave_the_owner(tmp_path, known):
    path = write(tmp_path, """
        entities:
          product:
            owner: erp
            flow: prestashop_to_erp
            tables: {product: [price]}
    """)
    with pytest.raises(RulesError, match="entity 'product': owner erp but flow prestashop_to_erp"):
        load_rules(path, known)


def test_misspelt_key_is_rejected(tmp_path, known):
    path = write(tmp_path, """
        entities:
          product:
            owner: erp
            flow: erp_to_prestashop
            table: {product: [price]}
    """)
    with pytest.raises(RulesError, match="entity 'product', table"):
        load_rules(path, known)


def test_a_state_driven_by_two_entities_is_rejected(tmp_path, known):
    path = write(tmp_path, """
        entities:
          fulfilment:
            owner: erp
            flow: erp_to_prestashop
            states: [PS_OS_SHIPPING]
          order:
            owner: prestashop
            flow: prestashop_to_erp
            states: [PS_OS_SHIPPING]
    """)
    with pytest.raises(RulesError, match="order state PS_OS_SHIPPING is owned by both erp"):
        load_rules(path, known)
