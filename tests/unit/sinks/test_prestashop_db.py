"""sinks/prestashop_db.py: the pure rules the shop database sink applies."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pssync.settings import Settings
from pssync.sinks.prestashop_db import (
    PrestashopDbApplier,
    StateFlags,
    combination_impact,
    quantity_to_write,
    reserved_by,
    shop_datetime,
    stock_sign,
    unseen_quantity,
)
from pssync.schemas.codec import Codec, MemoryStore
from pssync.schemas.commands import BadCommand, StockCommand, TrackingCommand

CODEC = Codec(MemoryStore())
UTC = dt.timezone.utc
# the default states: 1 awaiting check, 2 payment accepted, 4 shipped, 6 canceled, 8 payment error
CHEQUE, PAYMENT, SHIPPING = StateFlags(1, False, False), StateFlags(2, True, False), StateFlags(4, True, True)
CANCELED, ERROR, REFUND = StateFlags(6, False, False), StateFlags(8, False, False), StateFlags(7, False, False)
OUT = {6, 8}


def test_shop_datetime_is_wall_time_in_the_shop_zone_floored_to_the_second():
    t = dt.datetime(2024, 7, 1, 10, 0, 0, 700_000, tzinfo=UTC)
    assert shop_datetime(t, ZoneInfo("UTC")) == dt.datetime(2024, 7, 1, 10, 0, 0)
    assert shop_datetime(t, ZoneInfo("Europe/Paris")) == dt.datetime(2024, 7, 1, 12, 0, 0)
    assert shop_datetime(t.astimezone(ZoneInfo("America/New_York")), ZoneInfo("UTC")) == dt.datetime(2024, 7, 1, 10)
    with pytest.raises(ValueError):
        shop_datetime(dt.datetime(2024, 7, 1), ZoneInfo("UTC"))


def test_unseen_quantity_skips_known_and_cancelled_orders():
    orders = [{"id_order": 10, "current_state": 1, "quantity": 2},
              {"id_order": 11, "current_state": 2, "quantity": 3},
              {"id_order": 12, "current_state": 6, "quantity": 5},    # canceled
              {"id_order": 13, "current_state": 8, "quantity": 7},    # payment error
              {"id_order": 14, "current_state": 4, "quantity": 1}]
    assert unseen_quantity(orders, known=[11], not_counted_states=OUT) == 2 + 1
    assert unseen_quantity(orders, known=[], not_counted_states=set()) == 18
    assert unseen_quantity([], known=[1], not_counted_states=OUT) == 0


@pytest.mark.parametrize("computed,unseen,written", [(10, 3, 7), (10, 0, 10), (2, 5, 0), (0, 0, 0)])
def test_quantity_to_write_never_goes_negative(computed, unseen, written):
    assert quantity_to_write(computed, unseen) == written


@pytest.mark.parametrize("old,new,sign", [
    (CHEQUE, PAYMENT, 0),        # paid: nothing moves
    (PAYMENT, SHIPPING, 0),      # shipping only moves reserved/physical
    (PAYMENT, CANCELED, 1),      # logable -> canceled: given back
    (SHIPPING, ERROR, 1),
    (CHEQUE, CANCELED, 1),       # waiting for payment -> canceled: given back
    (CANCELED, ERROR, 0),        # already given back
    (ERROR, PAYMENT, -1),        # reinstated: taken again
    (CANCELED, CHEQUE, 0),       # PrestaShop takes nothing back here
    (SHIPPING, REFUND, 0),       # not logable but neither canceled nor error
])
def test_stock_sign_follows_prestashop_state_rules(old, new, sign):
    assert stock_sign(old, new, OUT) == sign


def test_reserved_by_open_orders_only():
    assert reserved_by(CHEQUE, OUT) and reserved_by(PAYMENT, OUT)
    assert not reserved_by(SHIPPING, OUT)
    assert not reserved_by(CANCELED, OUT) and not reserved_by(ERROR, OUT)


def test_combination_impact_is_relative_to_the_base_price():
    assert combination_impact(Decimal("55"), Decimal("29.000000")) == Decimal("26.000000")
    assert combination_impact(Decimal("20.5"), Decimal("29")) == Decimal("-8.500000")


def test_applier_identity_and_decode():
    settings = Settings(capture={"name": "shopA"}, streams={"shop_commands_topic": "cmds"})
    applier = PrestashopDbApplier(settings, prepare=False, codec=CODEC)
    assert (applier.name, applier.direction, applier.topics) == ("shop-db-shopA", "to_shop", ["cmds"])
    assert applier.marks_echo and not applier.remote
    now = dt.datetime(2024, 7, 1, tzinfo=UTC)
    command = TrackingCommand(command_id="c1", source_event_id="e1", created_at=now, id_order=4,
                              shop_reference="FFATNOMMJ", tracking_number="TRK", changed_at=now)
    decoded = applier.decode(CODEC.encode("cmds", command), "t[0]@1")
    assert decoded.command == command and decoded.command_id == "c1"
    assert decoded.key.resource == "order_carrier" and decoded.key.external_id == "FFATNOMMJ"
    stock = StockCommand(command_id="c2", source_event_id="e2", created_at=now, sku="demo_13", id_shop=1,
                         id_product=8, id_product_attribute=0, quantity=5, erp_as_of=now, orders_since=now)
    assert isinstance(applier.decode(CODEC.encode("cmds", stock), "t[0]@2").command, StockCommand)
    with pytest.raises(BadCommand):
        applier.decode(b'{"type": "stock"}', "t[0]@3")
    with pytest.raises(BadCommand):
        applier.decode(None, "t[0]@4")
