"""prestashop/rules.py and prestashop/configuration.py: PrestaShop's own rules, in one place."""
from __future__ import annotations

from pssync.prestashop.configuration import state_ids
from pssync.prestashop.rules import CANCELLED_STATES, product_level, product_level_row, shop_owned_state


def test_product_level_is_the_sum_of_its_combinations():
    assert product_level([]) == 0
    assert product_level([3, 4, 0]) == 7


def test_product_level_row_sums_the_combination_rows_only():
    rows = [{"id_product_attribute": 0, "quantity": 999, "reserved_quantity": 9, "physical_quantity": 1008},
            {"id_product_attribute": 16, "quantity": 300, "reserved_quantity": 0, "physical_quantity": 300},
            {"id_product_attribute": 18, "quantity": 100, "reserved_quantity": 2, "physical_quantity": 102}]
    assert product_level_row(rows) == (400, 2, 402)


def test_state_ids_resolve_per_shop_and_leave_out_non_numeric_values():
    rows = [{"id_configuration": 1, "name": "PS_OS_CANCELED", "value": "6", "id_shop": None, "id_shop_group": None},
            {"id_configuration": 2, "name": "PS_OS_CANCELED", "value": "16", "id_shop": 2, "id_shop_group": 1},
            {"id_configuration": 3, "name": "PS_OS_ERROR", "value": "", "id_shop": None, "id_shop_group": None}]
    assert state_ids(rows, CANCELLED_STATES, 1, 1) == {"PS_OS_CANCELED": 6}
    assert state_ids(rows, CANCELLED_STATES, 2, 1) == {"PS_OS_CANCELED": 16}


def test_a_state_the_shop_owns_keeps_an_erp_state_off_the_order():
    owned = {6, 8, 7}                                    # canceled, error, refunded
    assert shop_owned_state([6, 6], owned, target=3) == 6          # cancelled: 'processing' stays out
    assert shop_owned_state([2, 6], owned, target=3) == 6          # the cancel's history row is in first
    assert shop_owned_state([6, None], owned, target=6) is None    # the ERP agrees: already cancelled
    assert shop_owned_state([2, 2], owned, target=3) is None       # paid: the ERP moves it on
