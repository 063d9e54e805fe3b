"""The webhook receiver over real HTTP, writing to the real Kafka and registry."""
from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time

import httpx
import pytest
from aiohttp import web
from confluent_kafka import Consumer, TopicPartition

from pssync.erp.topics import topic_name
from pssync.erp.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookReceiver, sign
from pssync.settings import WebhookSettings

pytestmark = pytest.mark.integration
SECRET = "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(settings, hook: WebhookSettings):
    """A WebhookReceiver served over HTTP on its own event loop thread, as `pssync erp webhook` does."""
    app_receiver = WebhookReceiver(settings, hook)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app_receiver.app())

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, hook.host, hook.port).start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://{hook.host}:{hook.port}"
    for _ in range(400):
        try:
            httpx.get(base + "/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture()
def hook_settings(scratch):
    settings = scratch.settings()
    settings.erp.topic_prefix = scratch.prefix
    from pssync.bus.kafka import ensure_topics
    from pssync.erp.topics import TOPICS
    ensure_topics(settings.kafka, {topic_name(scratch.prefix, k): {} for k in TOPICS})
    return settings, WebhookSettings(port=free_port(), secret=SECRET, erp="acme", max_body_bytes=4096)


@pytest.fixture()
def receiver(hook_settings):
    settings, hook = hook_settings
    with running(settings, hook) as base:
        yield base, settings


def post(base: str, path: str, body: bytes, *, secret: str = SECRET, ts: int | None = None) -> httpx.Response:
    stamp = str(ts if ts is not None else int(time.time()))
    return httpx.post(base + path, content=body, headers={
        TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body),
        "Content-Type": "application/json"})


def end_offset(settings, topic: str) -> int:
    c = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "wm"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)[1]
    finally:
        c.close()


STOCK = {"event_id": "evt-1", "sku": "demo_1-1", "erp_product_id": "17", "quantity": "298",
         "warehouse": "WH", "as_of": "2026-11-22T10:00:00Z"}


def test_signed_event_is_acknowledged_after_it_is_durable_in_kafka(receiver, scratch):
    base, settings = receiver
    response = post(base, "/webhooks/stock", json.dumps(STOCK).encode())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["topic"] == topic_name(scratch.prefix, "stock")
    events = scratch.read_topic(body["topic"], min_count=1)
    assert len(events) == 1 and events[0].offset == body["offset"]
    value = events[0].value
    assert value["sku"] == "demo_1-1" and str(value["quantity"]) == "298.0000"
    assert value["mode"] == "delta" and value["erp"] == "acme" and value["version"] == "webhook:evt-1"


@pytest.mark.parametrize("case,status,reason", [
    ("bad signature", 401, "bad X-Pssync-Signature"),
    ("stale timestamp", 401, "stale X-Pssync-Timestamp"),
    ("malformed json", 400, "malformed JSON"),
    ("invalid payload", 422, "quantity"),
    ("oversized body", 413, "exceeds 4096"),
    ("unknown kind", 404, "unknown event kind"),
])
def test_bad_requests_are_refused_with_a_reason_and_nothing_is_written(receiver, scratch, case, status, reason):
    base, settings = receiver
    topic = topic_name(scratch.prefix, "stock")
    before = end_offset(settings, topic)
    body = json.dumps(STOCK).encode()
    if case == "bad signature":
        response = post(base, "/webhooks/stock", body, secret="wrong")
    elif case == "stale timestamp":
        response = post(base, "/webhooks/stock", body, ts=int(time.time()) - 3600)
    elif case == "malformed json":
        response = post(base, "/webhooks/stock", b'{"sku": "demo_1-1",')
    elif case == "invalid payload":
        response = post(base, "/webhooks/stock", json.dumps({**STOCK, "quantity": "lots"}).encode())
    elif case == "oversized body":
        response = post(base, "/webhooks/stock", json.dumps({**STOCK, "warehouse": "W" * 8000}).encode())
    else:
        response = post(base, "/webhooks/invoices", body)
    assert response.status_code == status, response.text
    assert reason in response.json()["reason"]
    # the next event of the same SKU (same partition) takes the offset the refused one would have had
    following = post(base, "/webhooks/stock", json.dumps({**STOCK, "event_id": "next"}).encode())
    assert following.status_code == 202 and following.json()["offset"] == before


def test_negative_quantity_is_refused_naming_the_sku_and_nothing_is_published(receiver, scratch):
    base, settings = receiver
    topic = topic_name(scratch.prefix, "stock")
    response = post(base, "/webhooks/stock", json.dumps({**STOCK, "quantity": "-5"}).encode())
    assert response.status_code == 422, response.text
    reason = response.json()["reason"]
    assert "sku 'demo_1-1'" in reason and "quantity: must not be negative, got -5" in reason
    # the next event of the same SKU (same partition) is the first one the topic holds
    following = post(base, "/webhooks/stock", json.dumps({**STOCK, "event_id": "evt-2"}).encode())
    assert following.status_code == 202, following.text
    assert following.json()["offset"] == 0
    events = scratch.read_topic(topic, min_count=1)
    assert [e.value["version"] for e in events] == ["webhook:evt-2"]


def test_the_same_signed_request_twice_is_published_once_and_answered_as_a_duplicate(receiver, scratch):
    base, settings = receiver
    topic = topic_name(scratch.prefix, "stock")
    body, stamp = json.dumps(STOCK).encode(), int(time.time())
    first = post(base, "/webhooks/stock", body, ts=stamp)
    assert first.status_code == 202, first.text
    again = post(base, "/webhooks/stock", body, ts=stamp)                    # byte-identical replay
    retry = post(base, "/webhooks/stock", json.dumps({**STOCK, "quantity": 298}).encode(), ts=stamp - 1)
    for response in (again, retry):                                         # a re-signed retry too
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "duplicate", "duplicate": True, "event_id": "evt-1",
                                   "topic": topic, "partition": first.json()["partition"],
                                   "offset": first.json()["offset"]}
    # the next event of the same SKU (same partition) lands right after the first one
    following = post(base, "/webhooks/stock", json.dumps({**STOCK, "event_id": "evt-2"}).encode())
    assert following.status_code == 202 and following.json()["offset"] == first.json()["offset"] + 1
    events = scratch.read_topic(topic, min_count=2)
    assert [e.value["version"] for e in events] == ["webhook:evt-1", "webhook:evt-2"]


def test_an_event_id_reused_for_other_content_is_refused_with_409(receiver, scratch):
    base, settings = receiver
    assert post(base, "/webhooks/stock", json.dumps(STOCK).encode()).status_code == 202
    response = post(base, "/webhooks/stock", json.dumps({**STOCK, "quantity": "297"}).encode())
    assert response.status_code == 409, response.text
    assert "event_id 'evt-1' was already received with different content" in response.json()["reason"]
    following = post(base, "/webhooks/stock", json.dumps({**STOCK, "event_id": "evt-2"}).encode())
    assert following.json()["offset"] == 1


def test_a_restarted_receiver_still_answers_a_retry_as_a_duplicate(hook_settings, scratch):
    settings, hook = hook_settings
    topic = topic_name(scratch.prefix, "stock")
    body = json.dumps(STOCK).encode()
    with running(settings, hook) as base:
        first = post(base, "/webhooks/stock", body)
        assert first.status_code == 202, first.text
    # the ERP capture writes the same topics in transactions: a commit marker ends the partition
    from pssync.bus.kafka import transactional_producer
    capture = transactional_producer(settings.kafka, f"{scratch.prefix}-poller")
    capture.begin_transaction()
    capture.produce(topic, key=b"other-sku", value=b"polled")
    capture.commit_transaction(30)
    with running(settings, hook) as base:                                    # a new process's memory
        retry = post(base, "/webhooks/stock", body)
        assert retry.status_code == 200, retry.text
        assert retry.json()["duplicate"] is True and retry.json()["offset"] == first.json()["offset"]
        assert post(base, "/webhooks/stock", json.dumps({**STOCK, "event_id": "evt-2"}).encode()).status_code == 202
