"""`pssync cdc tail` lines: every column of the row, 0, '' and null included."""
from decimal import Decimal

from pssync.cdc.tail import summarise


def test_a_created_row_keeps_zero_empty_and_null_columns():
    value = {"op": "c", "before": None, "source": {"table": "ps_stock_available", "gtid": "0-1-5"},
             "after": {"id_stock_available": 3, "quantity": 0, "location": "", "note": None,
                       "price": Decimal("1.50")}}
    line = summarise("t", {"id_stock_available": 3}, value)
    assert line["row"] == {"id_stock_available": 3, "quantity": 0, "location": "", "note": None, "price": "1.50"}


def test_an_update_lists_what_changed_even_to_zero():
    before = {"id_stock_available": 3, "quantity": 4}
    value = {"op": "u", "before": before, "after": {**before, "quantity": 0},
             "source": {"table": "ps_stock_available", "gtid": "0-1-6"}}
    assert summarise("t", {"id_stock_available": 3}, value)["changed"] == {"quantity": [4, 0]}
