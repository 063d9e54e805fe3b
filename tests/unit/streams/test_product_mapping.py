"""streams/product_mapping.py over plain dicts: a SKU moved to another product (a delete of the old
holder's row and an update of the new one's, in either order) leaves no stale reference in either
direction, and the ERP values held for the SKU go to its new row."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pssync.schemas.commands import PriceCommand
from tests.unit.streams.hub_support import Shop, change, mapping_row, run
from tests.unit.streams.recording import CODEC
from tests.unit.streams.test_erp_values import level, price


def moved(shop: Shop, delete_first: bool) -> None:
    """Product 8's row goes from MUG-B to MUG-A, product 7's row (MUG-A) is deleted."""
    delete = change(None, before=mapping_row(7, 0, "MUG-A"))
    update = change(mapping_row(8, 0, "MUG-A"), before=mapping_row(8, 0, "MUG-B"))
    for event in ((delete, update) if delete_first else (update, delete)):
        run(shop.product_mapping.on_mapping(0, event))


@pytest.mark.parametrize("delete_first", [True, False])
def test_a_sku_moved_to_another_product_leaves_no_stale_reference(delete_first):
    shop = Shop()
    shop.map_product(7, 0, "MUG-A")
    shop.map_product(8, 0, "MUG-B")
    run(shop.erp.on_erp_price(0, price("MUG-A", "12.50")))
    shop.rec.clear()
    moved(shop, delete_first)
    refs = shop.state.refs
    assert (refs.sku(0, 8, 0), refs.row(0, "MUG-A")) == ("MUG-A", (8, 0))
    assert (refs.sku(0, 7, 0), refs.row(0, "MUG-B")) == (None, None)
    # the ERP price held for MUG-A goes to its new row
    (command,) = [CODEC.shop_command(s.value, "test") for s in shop.rec.on("shop_commands")]
    assert isinstance(command, PriceCommand) and (command.sku, command.id_product, command.price) == (
        "MUG-A", 8, Decimal("12.50"))
    shop.rec.clear()
    # the old SKU no longer reaches product 8
    run(shop.erp.on_erp_stock(0, level("MUG-B", "30")))
    run(shop.erp.on_erp_price(0, price("MUG-B", "9.00", version="v2")))
    assert shop.rec.sent == []
    run(shop.erp.on_erp_stock(0, level("MUG-A", "40", version="s2")))
    (sent,) = shop.rec.on("hub:stock")
    assert sent.key == b"product:8" and sent.json["sku"] == "MUG-A"


def test_an_update_that_keeps_the_pair_keeps_its_references():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    before, after = mapping_row(8, 0, "MUG"), {**mapping_row(8, 0, "MUG"), "erp_product_id": "2"}
    run(shop.product_mapping.on_mapping(0, change(after, before=before)))
    assert (shop.state.refs.sku(0, 8, 0), shop.state.refs.row(0, "MUG")) == ("MUG", (8, 0))
