"""Receiver for ERPs that push changes. Each request is authenticated with an HMAC-SHA256
signature over ``<timestamp>.<body>`` (headers X-Pssync-Timestamp, X-Pssync-Signature:
sha256=<hex>), validated, written to the same erp.* topics as polled changes, and acknowledged
(202) only once Kafka has acknowledged the event. An event id accepted within the replay window
is answered 200 ``{"duplicate": true}`` and not written again (erp/webhook_replay.py). Anything
else is refused with the reason and nothing is written. Serve it behind TLS, or give it a certificate (``tls_cert``/``tls_key``)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
import time
from typing import Any

from aiohttp import web
from confluent_kafka import KafkaError

from pssync.bus.kafka import idempotent_producer, read_recent
from pssync.bus.registry import Registry
from pssync.erp.webhook_events import PAYLOADS, InvalidEvent, parse_event, to_change
from pssync.erp.topics import TOPICS, ErpEncoders, topic_name
from pssync.erp.webhook_replay import WEBHOOK_HEADER, Entry, SeenEvents, Verdict, event_digest, expiry, \
    header_value, lookback_s, rebuild
from pssync.settings import Settings, WebhookSettings

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Pssync-Signature"
TIMESTAMP_HEADER = "X-Pssync-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookReceiver:
    def __init__(self, settings: Settings, hook: WebhookSettings, registry: Registry | None = None) -> None:
        self.settings = settings
        self.hook = hook
        self.encoders = ErpEncoders(registry or Registry(settings.registry), settings.erp.topic_prefix)
        self.producer = idempotent_producer(settings.kafka, **{"linger.ms": 1})
        self.seen = SeenEvents()
        self._poller: asyncio.Task | None = None

    def app(self) -> web.Application:
        application = web.Application(client_max_size=self.hook.max_body_bytes)
        application.router.add_post("/webhooks/{kind}", self.handle)
        application.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))
        application.on_startup.append(self._start)
        application.on_cleanup.append(self._stop)
        return application

    def rebuild_seen(self) -> int:
        """Remember the events this receiver accepted within the window before it (re)started,
        read back from the erp.* topics; returns how many."""
        prefix = self.settings.erp.topic_prefix
        since_ms = int((time.time() - lookback_s(self.hook)) * 1000)
        messages = read_recent(self.settings.kafka, [topic_name(prefix, k) for k in TOPICS], since_ms)
        count = rebuild(self.seen, self.hook, messages)
        log.info("webhook: %d event(s) accepted within the last window are answered as duplicates", count)
        return count

    async def _start(self, _: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.rebuild_seen)

        async def serve_callbacks() -> None:
            while True:
                self.producer.poll(0)
                await asyncio.sleep(0.005)
        self._poller = asyncio.create_task(serve_callbacks())

    async def _stop(self, _: web.Application) -> None:
        if self._poller:
            self._poller.cancel()
        self.producer.flush(10)

    @staticmethod
    def refuse(status: int, reason: str, retry_after: int | None = None) -> web.Response:
        log.warning("webhook refused (%d): %s", status, reason)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.json_response({"status": "refused", "reason": reason}, status=status, headers=headers)

    @staticmethod
    def duplicate(event_id: str, entry: Entry) -> web.Response:
        topic, partition, offset = entry.where or (None, None, None)
        return web.json_response({"status": "duplicate", "duplicate": True, "event_id": event_id,
                                  "topic": topic, "partition": partition, "offset": offset}, status=200)

    async def handle(self, request: web.Request) -> web.Response:
        kind_name = request.match_info["kind"]
        if kind_name not in PAYLOADS:
            return self.refuse(404, f"unknown event kind {kind_name!r}; expected one of {sorted(PAYLOADS)}")
        if request.content_length is not None and request.content_length > self.hook.max_body_bytes:
            return self.refuse(413, f"body of {request.content_length} bytes exceeds {self.hook.max_body_bytes}")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self.refuse(413, f"body exceeds {self.hook.max_body_bytes} bytes")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.hook.tolerance_s:
            return self.refuse(401, f"missing or stale {TIMESTAMP_HEADER} (allowed skew {self.hook.tolerance_s}s)")
        expected = sign(self.hook.secret.get_secret_value(), timestamp, body)
        if not hmac.compare_digest(expected, signature):
            return self.refuse(401, f"bad {SIGNATURE_HEADER}: HMAC-SHA256 of '<timestamp>.<body>' does not match")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return self.refuse(400, f"malformed JSON: {exc}")
        kind = PAYLOADS[kind_name][0]
        try:
            event = parse_event(kind_name, payload, self.hook)
        except InvalidEvent as exc:
            return self.refuse(422, str(exc))
        change = to_change(kind, event)
        seen_key = (kind_name, event.event_id)
        entry = Entry(event_digest(change), expiry(self.hook, int(timestamp), time.time()))
        verdict, earlier = self.seen.claim(seen_key, entry.digest, entry.until)
        if verdict is Verdict.DUPLICATE and earlier is not None:
            log.info("webhook: %s event %r already accepted; answered as a duplicate", kind_name, event.event_id)
            return self.duplicate(event.event_id, earlier)
        if verdict is Verdict.CONFLICT:
            return self.refuse(409, f"{kind_name} event_id {event.event_id!r} was already received with "
                                    f"different content; give a new change a new event_id")
        if verdict is Verdict.IN_FLIGHT:
            return self.refuse(503, f"{kind_name} event_id {event.event_id!r} is being published by "
                                    f"another request; retry later", retry_after=1)
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def delivered(err: KafkaError | None, msg: Any) -> None:
            # also after the request gave up waiting: a late acknowledgement still makes it a duplicate
            if err is None:
                self.seen.accept(seen_key, (msg.topic(), msg.partition(), msg.offset()))
            else:
                self.seen.release(seen_key)
            loop.call_soon_threadsafe(
                lambda: done.done() or done.set_result((err, msg.partition() if msg else None,
                                                        msg.offset() if msg else None)))

        try:
            topic, key, value = self.encoders.encode(change, self.hook.erp)
            self.producer.produce(topic, key=key, value=value, on_delivery=delivered,
                                  headers=[("pssync.event_id", event.event_id.encode()),
                                           (WEBHOOK_HEADER, header_value(self.hook, seen_key, entry))])
        except BufferError:
            self.seen.release(seen_key)
            return self.refuse(503, "the Kafka producer's queue is full; retry later", retry_after=1)
        except BaseException:
            self.seen.release(seen_key)
            raise
        try:
            err, partition, offset = await asyncio.wait_for(asyncio.shield(done), timeout=30)
        except asyncio.TimeoutError:
            return self.refuse(503, "Kafka did not acknowledge the event in 30s; retry later", retry_after=5)
        if err is not None:
            return self.refuse(503, f"Kafka refused the event ({err.str()}); retry later")
        return web.json_response({"status": "accepted", "topic": topic, "partition": partition,
                                  "offset": offset, "event_id": event.event_id}, status=202)


def ssl_context(hook: WebhookSettings) -> ssl.SSLContext | None:
    if not hook.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(hook.tls_cert, hook.tls_key)
    return context


def serve(settings: Settings, hook: WebhookSettings) -> None:
    receiver = WebhookReceiver(settings, hook)
    web.run_app(receiver.app(), host=hook.host, port=hook.port, ssl_context=ssl_context(hook),
                print=lambda msg: log.info(msg))
