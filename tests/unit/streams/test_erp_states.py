"""streams/erp_states.py: an ERP order state becomes an order-state command, a shipment a tracking
command and its state's command; nothing for states not mapped or orders of another shop."""
from __future__ import annotations

import datetime as dt

from pssync.schemas.commands import OrderStateCommand, TrackingCommand
from pssync.streams.erp_states import ErpStates
from tests.unit.streams.hub_support import NOW, STATES, UTC
from tests.unit.streams.recording import CODEC, Recorder, run

AT = dt.datetime(2024, 5, 1, 11, 0, tzinfo=UTC)


def status(**overrides) -> dict:
    return {"erp_order_id": "SO-17", "shop_reference": "XKBKNABJK-42", "state": "shipped", "changed_at": AT,
            "version": "v9"} | overrides


def shipment(**overrides) -> dict:
    return {"erp_shipment_id": "SH-3", "erp_order_id": "SO-17", "shop_reference": "XKBKNABJK-42", "state": "done",
            "tracking_number": "1Z999AA10123456784", "carrier": "UPS", "changed_at": AT, "version": "v3"} | overrides


def states(prefix: str = "") -> tuple[ErpStates, Recorder]:
    rec = Recorder()
    return ErpStates(rec.outputs, order_states=STATES, shipment_states=STATES, reference_prefix=prefix,
                     now=lambda: NOW), rec


def sent_commands(rec: Recorder) -> list:
    return [(s.key, CODEC.shop_command(s.value, "test")) for s in rec.on("shop_commands")]


def test_an_erp_order_state_becomes_an_order_state_command_keyed_by_shop_reference():
    hub, rec = states()
    run(hub.on_order_status(0, status()))
    ((key, command),) = sent_commands(rec)
    assert key == b"XKBKNABJK-42" and isinstance(command, OrderStateCommand)
    assert (command.id_order, command.state_key, command.erp_state) == (42, "PS_OS_SHIPPING", "shipped")
    assert command.source_event_id == "order-status:v9" and command.created_at == NOW and command.changed_at == AT


def test_an_unmapped_state_or_an_order_of_another_shop_gives_nothing():
    hub, rec = states(prefix="B-")
    run(hub.on_order_status(0, status()))                                  # no B- prefix: not ours
    run(hub.on_order_status(0, status(shop_reference="B-XKBKNABJK-42", state="draft")))
    assert rec.sent == []


def test_a_shipment_gives_its_tracking_number_and_its_state():
    hub, rec = states()
    run(hub.on_shipment(0, shipment()))
    (key1, tracking), (key2, state) = sent_commands(rec)
    assert key1 == key2 == b"XKBKNABJK-42"
    assert isinstance(tracking, TrackingCommand) and isinstance(state, OrderStateCommand)
    assert (tracking.tracking_number, tracking.carrier, tracking.source_event_id) == (
        "1Z999AA10123456784", "UPS", "shipment:v3")
    assert (state.state_key, state.source_event_id) == ("PS_OS_DELIVERED", "shipment:v3")


def test_a_shipment_without_tracking_number_only_moves_the_state():
    hub, rec = states()
    run(hub.on_shipment(0, shipment(tracking_number="  ")))
    assert [type(c) for _, c in sent_commands(rec)] == [OrderStateCommand]


def test_an_order_never_steps_back_whatever_order_the_two_erp_topics_arrive_in():
    """The ERP sale rewritten after its shipment ('processing' again, newer) must not undo 'shipped'."""
    rec = Recorder()
    lifecycle = {"processing": "PS_OS_PREPARATION", "shipped": "PS_OS_SHIPPING", "done": "PS_OS_DELIVERED",
                 "cancelled": "PS_OS_CANCELED"}
    hub = ErpStates(rec.outputs, order_states=lifecycle, shipment_states=lifecycle, reference_prefix="",
                    now=lambda: NOW)
    run(hub.on_order_status(0, status(state="processing", version="v1")))
    run(hub.on_shipment(0, shipment(state="shipped")))
    run(hub.on_order_status(0, status(state="processing", version="v2", changed_at=AT + dt.timedelta(minutes=5))))
    run(hub.on_order_status(0, status(state="shipped", version="v3")))       # the same step again: sent
    run(hub.on_order_status(0, status(state="cancelled", version="v4")))     # an end may follow any step
    states_sent = [(c.state_key, c.source_event_id) for _, c in sent_commands(rec) if isinstance(c, OrderStateCommand)]
    assert states_sent == [("PS_OS_PREPARATION", "order-status:v1"), ("PS_OS_SHIPPING", "shipment:v3"),
                           ("PS_OS_SHIPPING", "order-status:v3"), ("PS_OS_CANCELED", "order-status:v4")]
    # the tracking number still goes out, and another order is not affected
    assert any(isinstance(c, TrackingCommand) for _, c in sent_commands(rec))
    run(hub.on_order_status(0, status(state="processing", shop_reference="XKBKNABJK-43", version="v5")))
    assert sent_commands(rec)[-1][1].id_order == 43
