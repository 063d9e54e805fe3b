"""The webhook's memory of accepted events: claims, duplicates, conflicts, expiry, read-back."""
from __future__ import annotations

import threading

from pssync.erp.webhook_events import parse_event, to_change
from pssync.erp.webhook_replay import (
    WEBHOOK_HEADER, Entry, SeenEvents, Verdict, event_digest, expiry, header_value, lookback_s, rebuild)
from pssync.settings import WebhookSettings

HOOK = WebhookSettings(secret="x", erp="acme", tolerance_s=300)
STOCK = {"event_id": "evt-1", "sku": "demo_1-1", "erp_product_id": "17", "quantity": "298",
         "warehouse": "WH", "as_of": "2026-11-22T10:00:00Z"}
KEY = ("stock", "evt-1")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def digest(payload: dict) -> str:
    return event_digest(to_change("stock", parse_event("stock", payload, HOOK)))


def test_an_accepted_event_is_a_duplicate_until_its_window_ends():
    clock = Clock()
    seen = SeenEvents(clock)
    assert seen.claim(KEY, "d", clock.now + 300) == (Verdict.NEW, None)
    verdict, _ = seen.claim(KEY, "d", clock.now + 300)
    assert verdict is Verdict.IN_FLIGHT
    seen.accept(KEY, ("erp.stock", 0, 7))
    verdict, entry = seen.claim(KEY, "d", clock.now + 300)
    assert verdict is Verdict.DUPLICATE and entry.where == ("erp.stock", 0, 7)
    assert seen.claim(KEY, "other", clock.now + 300)[0] is Verdict.CONFLICT
    clock.now += 300
    assert len(seen) == 0
    assert seen.claim(KEY, "d", clock.now + 300)[0] is Verdict.NEW


def test_a_released_claim_lets_a_retry_publish():
    seen = SeenEvents(Clock())
    seen.claim(KEY, "d", 2_000_000)
    seen.release(KEY)
    assert seen.claim(KEY, "d", 2_000_000)[0] is Verdict.NEW


def test_a_late_acknowledgement_is_not_undone_by_a_release():
    seen = SeenEvents(Clock())
    seen.claim(KEY, "d", 2_000_000)
    seen.accept(KEY, ("t", 0, 1))
    seen.release(KEY)
    assert seen.claim(KEY, "d", 2_000_000)[0] is Verdict.DUPLICATE


def test_concurrent_claims_of_one_event_let_exactly_one_publish():
    seen = SeenEvents(Clock())
    verdicts: list[Verdict] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        verdicts.append(seen.claim(KEY, "d", 2_000_000)[0])

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v.value for v in verdicts) == ["in_flight"] * 7 + ["new"]


def test_an_entry_outlives_the_signed_timestamp_and_the_dedupe_time():
    assert expiry(HOOK, signed_at=1000, now=1200) == 1500            # now + tolerance_s
    assert expiry(HOOK, signed_at=1250, now=900) == 1550             # a timestamp ahead of our clock
    assert expiry(WebhookSettings(secret="x", dedupe_s=3600), signed_at=1000, now=1000) == 4600
    assert lookback_s(HOOK) == 660


def test_the_digest_is_what_the_topic_carries_not_how_the_sender_spelled_it():
    assert digest(STOCK) == digest({**STOCK, "quantity": 298}) == digest({**STOCK, "quantity": "298.0"})
    assert digest(STOCK) != digest({**STOCK, "quantity": "297"})
    assert digest(STOCK) != digest({**STOCK, "as_of": "2026-11-22T10:00:01Z"})


class FakeMessage:
    def __init__(self, headers, offset: int) -> None:
        self._headers, self._offset = headers, offset

    def headers(self):
        return self._headers

    def topic(self) -> str:
        return "erp.stock"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset


def test_rebuild_remembers_this_erps_live_entries_from_the_headers():
    clock = Clock()
    seen = SeenEvents(clock)
    live = Entry("d", clock.now + 100)
    other_erp = WebhookSettings(secret="x", erp="other")
    messages = [
        FakeMessage([(WEBHOOK_HEADER, header_value(HOOK, KEY, live))], 5),
        FakeMessage([(WEBHOOK_HEADER, header_value(HOOK, ("stock", "old"), Entry("d", clock.now - 1)))], 6),
        FakeMessage([(WEBHOOK_HEADER, header_value(other_erp, ("stock", "theirs"), live))], 7),
        FakeMessage([(WEBHOOK_HEADER, b"not json")], 8),
        FakeMessage(None, 9),                                         # a polled event
    ]
    assert rebuild(seen, HOOK, messages) == 1
    verdict, entry = seen.claim(KEY, "d", clock.now + 300)
    assert verdict is Verdict.DUPLICATE and entry.where == ("erp.stock", 0, 5)
    assert seen.claim(("stock", "old"), "d", clock.now + 300)[0] is Verdict.NEW
    assert seen.claim(("stock", "theirs"), "d", clock.now + 300)[0] is Verdict.NEW
