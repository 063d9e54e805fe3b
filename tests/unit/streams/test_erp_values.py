"""streams/erp_values.py over plain dicts: ERP prices and product flags become shop commands, the
latest ERP change per SKU is kept (older ones ignored) and sent once the SKU is mapped; ERP levels go
to the stock processor; shop-side edits of ERP-owned fields become violations and the ERP value is
re-asserted."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.schemas.commands import PriceCommand, ProductCommand
from tests.unit.streams.hub_support import NOW, UTC, Shop, change, run
from tests.unit.streams.recording import CODEC

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def price(sku: str = "MUG", amount: str = "12.50", at: dt.datetime = T0, version: str = "v1") -> dict:
    return {"sku": sku, "erp_product_id": "7", "list_price": Decimal(amount), "currency": "EUR", "changed_at": at,
            "erp": "tryton", "version": version, "captured_at": at}


def product(sku: str = "MUG", active: bool = False, at: dt.datetime = T0, version: str = "p1") -> dict:
    return {"sku": sku, "erp_product_id": "7", "name": "Mug", "active": active, "changed_at": at,
            "attributes": {}, "erp": "tryton", "version": version, "captured_at": at}


def level(sku: str = "MUG", quantity: str = "20", at: dt.datetime = T0, mode: str = "delta",
          version: str = "s1") -> dict:
    return {"sku": sku, "erp_product_id": "7", "quantity": Decimal(quantity), "on_hand": Decimal(quantity),
            "warehouse": "WH", "as_of": at, "mode": mode, "snapshot_id": None, "snapshot_position": None,
            "snapshot_total": None, "erp": "tryton", "version": version, "captured_at": at}


def shop_commands(shop: Shop) -> list:
    return [CODEC.shop_command(s.value, "test") for s in shop.rec.on("shop_commands")]


def test_an_erp_price_of_a_mapped_sku_becomes_a_price_command_keyed_by_sku():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_erp_price(0, price()))
    (sent,) = shop.rec.on("shop_commands")
    command = CODEC.shop_command(sent.value, "test")
    assert sent.key == b"MUG" and isinstance(command, PriceCommand)
    assert (command.id_product, command.id_product_attribute, command.price, command.id_shop) == (8, 0, Decimal("12.50"), 1)
    assert command.source_event_id == "erp-price:v1" and command.changed_at == T0 and command.created_at == NOW
    assert shop.state.erp_prices["MUG"] == {"price": "12.50", "changed_at": T0.isoformat(), "version": "v1",
                                            "partition": 0}


def test_an_erp_price_older_than_the_one_held_is_ignored_and_a_newer_one_replaces_it():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_erp_price(0, price(amount="12.50", at=T0, version="v2")))
    run(shop.erp.on_erp_price(0, price(amount="9.00", at=T0 - dt.timedelta(minutes=5), version="v1")))
    assert [c.price for c in shop_commands(shop)] == [Decimal("12.50")]
    assert shop.state.erp_prices["MUG"]["version"] == "v2"
    run(shop.erp.on_erp_price(0, price(amount="14.00", at=T0 + dt.timedelta(minutes=5), version="v3")))
    assert [c.price for c in shop_commands(shop)] == [Decimal("12.50"), Decimal("14.00")]
    assert shop.state.erp_prices["MUG"]["price"] == "14.00"


def test_erp_values_of_an_unmapped_sku_are_kept_and_sent_when_the_mapping_arrives():
    shop = Shop()
    run(shop.erp.on_erp_price(0, price()))
    run(shop.erp.on_erp_product(0, product()))
    run(shop.erp.on_erp_stock(0, level()))
    assert shop.rec.sent == []
    shop.map_product(8, 0, "MUG")
    commands = shop_commands(shop)
    assert [type(c) for c in commands] == [PriceCommand, ProductCommand]
    assert [c.source_event_id for c in commands] == ["mapping:MUG:v1", "mapping:MUG:p1"]
    assert commands[1].active is False
    (stock,) = shop.rec.on("hub:stock")
    assert stock.key == b"product:8" and stock.kind == "stock.level"
    assert stock.json == {"sku": "MUG", "attribute": 0, "quantity": "20", "as_of": T0.isoformat(), "mode": "delta",
                          "snapshot_id": None, "trigger": "mapping:MUG:s1", "id_product": 8}


def test_values_held_by_another_partition_are_not_sent_by_this_one():
    shop = Shop(partitions=2)
    run(shop.erp.on_erp_price(1, price()))
    shop.map_product(8, 0, "MUG", partition=0)
    assert shop.rec.sent == []
    shop.map_product(8, 0, "MUG", partition=1)
    assert [c.source_event_id for c in shop_commands(shop)] == ["mapping:MUG:v1"]


def test_an_erp_product_flag_is_for_products_not_combinations():
    shop = Shop()
    shop.map_product(1, 1, "TS-S")
    run(shop.erp.on_erp_product(0, product(sku="TS-S")))
    assert shop.rec.sent == []


def test_erp_stock_levels_go_to_the_products_stock_partition_even_when_older():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_erp_stock(0, level(quantity="20", at=T0, version="s2")))
    run(shop.erp.on_erp_stock(0, level(quantity="5", at=T0 - dt.timedelta(hours=1), version="s1")))
    assert [s.json["quantity"] for s in shop.rec.on("hub:stock")] == ["20", "5"]
    assert shop.state.erp_levels["MUG"]["version"] == "s2"       # the latest is the one kept


def product_row(price_: str, active: int = 1) -> dict:
    return {"id_product": 8, "id_shop_default": 1, "reference": "demo_13", "price": Decimal(price_),
            "active": active, "date_upd": T0}


def test_a_shop_side_price_edit_is_a_violation_and_the_erp_price_is_reasserted():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_erp_price(0, price(amount="12.50")))
    shop.rec.clear()
    event = change(product_row("9.99"), before=product_row("12.50"), gtid="0-1-55")
    run(shop.erp.on_product_row(0, "product", event, echo=False))
    (violation,) = shop.rec.on("violations")
    assert violation.key == b'{"id_product": 8}'
    assert violation.json == {"table": "ps_product", "column": "price", "key": {"id_product": 8},
                              "before": "12.50", "after": "9.99", "owner": "erp", "entity": "product",
                              "gtid": "0-1-55", "ts_ms": event["source"]["ts_ms"]}
    (request,) = shop.rec.on("hub:shop")
    assert request.key == b"sku:MUG" and request.kind == "reassert"
    assert request.json == {"sku": "MUG", "column": "price", "trigger": "reassert:0-1-55:product"}
    # the request reaches the SKU's partition: the ERP's price goes out again
    run(shop.erp.on_reassert(0, request.json))
    (command,) = shop_commands(shop)
    assert command.price == Decimal("12.50") and command.source_event_id == "reassert:0-1-55:product"


def test_our_own_writes_inserts_and_shop_owned_columns_are_not_violations():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_product_row(0, "product", change(product_row("9.99"), before=product_row("12.50")), echo=True))
    run(shop.erp.on_product_row(0, "product", change(product_row("9.99")), echo=False))
    edited = product_row("12.50") | {"date_upd": T0 + dt.timedelta(minutes=1)}
    run(shop.erp.on_product_row(0, "product", change(edited, before=product_row("12.50")), echo=False))
    assert shop.rec.sent == []


def test_without_reassert_a_violation_is_only_reported():
    shop = Shop(reassert=False)
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_product_row(0, "product", change(product_row("1", 0), before=product_row("1", 1)), echo=False))
    assert [v.json["column"] for v in shop.rec.on("violations")] == ["active"]
    assert shop.rec.on("hub:shop") == []


def test_a_reassert_without_a_held_erp_value_sends_nothing():
    shop = Shop()
    shop.map_product(8, 0, "MUG")
    run(shop.erp.on_reassert(0, {"sku": "MUG", "column": "price", "trigger": "reassert:x:product"}))
    run(shop.erp.on_reassert(0, {"sku": "MUG", "column": "reference", "trigger": "reassert:x:product"}))
    assert shop.rec.sent == []
