"""The webhook's event rules: shape and sanity limits, with a refusal naming the event and field."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pssync.erp.webhook_events import InvalidEvent, parse_event, to_change
from pssync.settings import WebhookSettings

HOOK = WebhookSettings(secret="x", max_quantity=1000)
STOCK = {"event_id": "evt-1", "sku": "demo_1-1", "erp_product_id": "17", "quantity": "298",
         "warehouse": "WH", "as_of": "2026-11-22T10:00:00Z"}
PRICE = {"event_id": "evt-2", "sku": "demo_1-1", "erp_product_id": "17", "list_price": "19.90",
         "currency": "EUR", "changed_at": "2026-11-22T10:00:00Z"}


def refusal(kind: str, payload, hook: WebhookSettings = HOOK) -> str:
    with pytest.raises(InvalidEvent) as info:
        parse_event(kind, payload, hook)
    return str(info.value)


def test_a_valid_stock_event_becomes_a_change_keyed_by_sku():
    change = to_change("stock", parse_event("stock", STOCK, HOOK))
    assert change.key == "demo_1-1" and change.record.quantity == Decimal("298")
    assert change.version == "webhook:evt-1"


@pytest.mark.parametrize("field,value,reason", [
    ("quantity", "-3", "quantity: must not be negative, got -3"),
    ("quantity", -1, "quantity: must not be negative"),
    ("quantity", "2.5", "quantity: must be a whole number of units, got 2.5"),
    ("quantity", "1001", "quantity: 1001 exceeds erp.webhook.max_quantity 1000"),
    ("quantity", "1e400", "exceeds erp.webhook.max_quantity"),
    ("quantity", "NaN", "quantity: Input should be a finite number"),
    ("quantity", "lots", "quantity:"),
    ("on_hand", "-1", "on_hand: must not be negative"),
    ("sku", "", "sku: String should have at least 1 character"),
    ("sku", "   ", "sku: Value error, must not be blank"),
])
def test_stock_events_breaking_a_rule_are_refused_naming_event_and_field(field, value, reason):
    message = refusal("stock", {**STOCK, field: value})
    assert reason in message
    assert message.startswith("invalid stock event sku ") and "event_id 'evt-1'" in message


@pytest.mark.parametrize("value,reason", [
    ("-0.01", "list_price: Input should be greater than or equal to 0"),
    ("NaN", "list_price: Input should be a finite number"),
    ("Infinity", "list_price: Input should be a finite number"),
    ("1e15", "list_price: Input should be less than"),
])
def test_prices_negative_not_finite_or_wider_than_the_topic_are_refused(value, reason):
    message = refusal("prices", {**PRICE, "list_price": value})
    assert reason in message and "sku 'demo_1-1'" in message and "event_id 'evt-2'" in message


def test_the_limits_are_settings():
    lenient = WebhookSettings(secret="x", allow_negative_quantity=True, allow_fractional_quantity=True)
    event = parse_event("stock", {**STOCK, "quantity": "-2.5"}, lenient)
    assert event.quantity == Decimal("-2.5")
    assert parse_event("stock", {**STOCK, "quantity": "1000"}, HOOK).quantity == 1000


def test_every_problem_is_reported_and_a_body_that_is_no_object_too():
    message = refusal("stock", {**STOCK, "quantity": "-1", "on_hand": "0.5"})
    assert "quantity: must not be negative" in message and "on_hand: must be a whole number" in message
    assert refusal("stock", [STOCK]).startswith("invalid stock event: (body): Input should be a valid dictionary")


def test_order_and_shipment_events_are_named_by_their_key():
    message = refusal("shipments", {"event_id": "e9", "erp_shipment_id": " ", "erp_order_id": "SO1",
                                    "state": "done", "changed_at": "2026-11-22T10:00:00Z"})
    assert message.startswith("invalid shipments event erp_shipment_id ' ' event_id 'e9'")
