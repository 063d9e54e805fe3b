"""prestashop/product_map.py: a manual mapping that would take a SKU from another product or
combination, or replace a mapped row's SKU, is refused unless told to reassign; then it says what
moved from where to where."""
from __future__ import annotations

import pytest

from pssync.errors import PermanentError
from pssync.prestashop.product_map import Mapping, MappingConflict, plan_mapping


def m(id_product: int, attribute: int, sku: str, erp_id: str = "22") -> Mapping:
    return Mapping("tryton", id_product, attribute, sku, erp_id, "manual")


def test_a_new_mapping_or_the_same_one_again_moves_nothing():
    assert not plan_mapping(m(8, 0, "demo_12"), None, None).moves
    again = plan_mapping(m(8, 0, "demo_12", "23"), m(8, 0, "demo_12"), m(8, 0, "demo_12"))
    assert (again.taken_from, again.replaced_sku, again.erp_product_id) == (None, None, "23")
    assert again.describe() == "mapped product 8 to demo_12"


def test_a_sku_held_by_another_product_is_refused_naming_the_sku_its_holder_and_the_flag():
    with pytest.raises(MappingConflict) as refused:
        plan_mapping(m(8, 0, "demo_12"), m(7, 0, "demo_12"), None)
    message = str(refused.value)
    assert "\n" not in message and isinstance(refused.value, PermanentError)
    assert message.startswith("SKU demo_12 is mapped to product 7:") and "--reassign" in message


def test_a_row_that_has_another_sku_is_refused_too():
    with pytest.raises(MappingConflict, match=r"^product 16 combination 28 is mapped to SKU demo_8-28: .*--reassign"):
        plan_mapping(m(16, 28, "other"), None, m(16, 28, "demo_8-28"))
    with pytest.raises(MappingConflict, match=r"^SKU demo_12 is mapped to product 7 and product 8 is mapped to SKU "
                                              r"demo_13: not mapping product 8 to demo_12"):
        plan_mapping(m(8, 0, "demo_12"), m(7, 0, "demo_12"), m(8, 0, "demo_13"))


def test_with_reassign_the_change_says_what_moved_from_where_to_where():
    change = plan_mapping(m(8, 0, "demo_12"), m(7, 0, "demo_12"), m(8, 0, "demo_13"), reassign=True)
    assert (change.sku, change.row, change.taken_from, change.replaced_sku) == ("demo_12", (8, 0), (7, 0), "demo_13")
    assert change.describe() == ("mapped product 8 to demo_12 (moved from product 7, now unmapped); "
                                 "its SKU demo_13 is no longer mapped")
