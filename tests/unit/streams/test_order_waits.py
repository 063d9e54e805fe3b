"""streams/order_waits.py with an injected clock: an order that cannot go out is dead-lettered
naming what it waits for, alerted and counted once the timeout has passed (once per reason), and
still goes out with the same command id when the missing rows arrive."""
from __future__ import annotations

import datetime as dt

import pytest

from pssync.streams.order_waits import SWEEP_KIND, OrderWaits
from tests.unit.streams.hub_support import Shop, change, run
from tests.unit.streams.recording import CODEC
from tests.unit.streams.test_orders import rows_of
from tests.unit.streams.test_orders_hub import ID_ORDER, map_lines, order_events, place, references


def later(shop: Shop, seconds: float) -> None:
    shop.clock[0] += dt.timedelta(seconds=seconds)


def sweep(shop: Shop, partition: int = 0) -> None:
    shop.record(SWEEP_KIND, b"{}", partition)


def command_ids(shop: Shop) -> list[str]:
    return [str(CODEC.sales_order(s.value, "commands").command_id) for s in shop.rec.on("commands")]


def test_an_order_lacking_its_customer_is_reported_after_the_timeout_then_goes_out_with_the_same_id():
    reference = Shop()                      # the same order with every row: the command id it should get
    references(reference)
    map_lines(reference)
    place(reference)
    (expected,) = command_ids(reference)

    shop = Shop(wait_timeout_s=60)
    references(shop, customer=False)
    map_lines(shop)
    place(shop)
    assert shop.state.waits == {ID_ORDER: {"since_ms": int(shop.now().timestamp() * 1000), "partition": 0}}
    later(shop, 59)
    sweep(shop)
    assert shop.rec.on("dead_letters") == [] and shop.rec.on("alerts") == []
    later(shop, 1)
    sweep(shop)
    (letter,) = shop.rec.on("dead_letters")
    reason = "waiting for ps_customer 1 for longer than 60 s"
    assert letter.key == str(ID_ORDER).encode() and letter.json["reason"] == reason
    (alert,) = shop.rec.values("alerts")
    assert alert["kind"] == "order_waiting" and alert["id_order"] == ID_ORDER and alert["reason"] == reason
    assert shop.waits.stats.orders_waiting_too_long == 1 and shop.waits.stats.order_wait_dead_letters_total == 1
    # later sweeps: no second dead letter, no second alert for the same reason
    later(shop, 600)
    sweep(shop)
    assert len(shop.rec.on("dead_letters")) == 1 and len(shop.rec.on("alerts")) == 1
    # the customer arrives: the command goes out, with the id it would have had, and the wait is over
    run(shop.orders.on_reference(0, change(rows_of("customer")[0]), "customer", "id_customer"))
    assert command_ids(shop) == [expected]
    assert shop.state.waits == {}
    sweep(shop)
    assert shop.waits.stats.orders_waiting_too_long == 0


@pytest.mark.parametrize("lacking, reason", [
    ("lines", "its ps_order_detail rows (no lines)"),
    ("one line", "more ps_order_detail rows (the 1 line(s) seen add up to"),
    ("address", "ps_address"),
    ("currency", "ps_currency 1"),
])
def test_the_reason_names_what_the_order_waits_for(lacking: str, reason: str):
    shop = Shop(wait_timeout_s=5)
    references(shop)
    map_lines(shop)
    if lacking == "address":
        for key in [k for k in shop.state.references if "|address|" in k]:
            del shop.state.references[key]
    if lacking == "currency":
        shop.state.references["0|currency"] = {}
    header, lines, history = order_events()
    run(shop.orders.on_order(0, header))
    for event in history:
        run(shop.orders.on_order_history(0, event))
    if lacking != "lines":
        for event in lines[:1] if lacking == "one line" else lines:
            run(shop.orders.on_order_detail(0, event))
    later(shop, 5)
    sweep(shop)
    (letter,) = shop.rec.on("dead_letters")
    assert letter.json["reason"].startswith(f"waiting for {reason}")
    assert letter.json["reason"].endswith("for longer than 5 s")


def test_the_sweep_of_a_partition_reports_only_its_own_orders():
    shop = Shop(partitions=2, wait_timeout_s=1)
    references(shop, partition=1, customer=False)
    map_lines(shop, partition=1)
    place(shop, partition=1)
    later(shop, 2)
    sweep(shop, partition=0)
    assert shop.rec.on("dead_letters") == []
    sweep(shop, partition=1)
    assert len(shop.rec.on("dead_letters")) == 1


def test_orders_that_go_out_or_ask_nothing_do_not_wait():
    shop = Shop(wait_timeout_s=1)
    references(shop)
    map_lines(shop)
    place(shop)
    assert len(shop.rec.on("commands")) == 1 and shop.state.waits == {}
    later(shop, 10)
    sweep(shop)
    assert shop.rec.on("dead_letters") == []


def test_a_forgotten_order_is_dropped_from_the_waits_and_the_timeout_must_be_positive():
    shop = Shop(wait_timeout_s=1)
    shop.state.waits[99] = {"since_ms": 0, "partition": 0}
    sweep(shop)
    assert shop.state.waits == {} and shop.rec.on("dead_letters") == []
    with pytest.raises(ValueError):
        OrderWaits(shop.state, shop.rec.outputs, timeout_s=0)
