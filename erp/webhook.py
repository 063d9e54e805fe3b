"""Receiver for ERPs that push changes. Each request is authenticated with an HMAC-SHA256
signature over ``<timestamp>.<body>`` (headers X-Pssync-Timestamp, X-Pssync-Signature:
sha256=<hex>), validated, written to the same erp.* topics as polled changes, and acknowledged
(202) only once Kafka has acknowledged the event. Anything else is refused with the reason and
nothing is written. Serve it behind TLS, or give it a certificate (``tls_cert``/``tls_key``)."""
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

from pssync.bus.kafka import idempotent_producer
from pssync.bus.registry import Registry
from pssync.erp.webhook_events import PAYLOADS, InvalidEvent, parse_event, to_change
from pssync.erp.topics import ErpEncoders
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
        self._poller: asyncio.Task | None = None

    def app(self) -> web.Application:
        application = web.Application(client_max_size=self.hook.max_body_bytes)
        application.router.add_post("/webhooks/{kind}", self.handle)
        application.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))
        application.on_startup.append(self._start)
        application.on_cleanup.append(self._stop)
        return application

    async def _start(self, _: web.Application) -> None:
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
    def refuse(status: int, reason: str) -> web.Response:
        log.warning("webhook refused (%d): %s", status, reason)
        return web.json_response({"status": "refused", "reason": reason}, status=status)

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
        topic, key, value = self.encoders.encode(change, self.hook.erp)
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def delivered(err: KafkaError | None, msg: Any) -> None:
            loop.call_soon_threadsafe(
                lambda: done.done() or done.set_result((err, msg.partition() if msg else None,
                                                        msg.offset() if msg else None)))

        self.producer.produce(topic, key=key, value=value, on_delivery=delivered,
                              headers=[("pssync.event_id", event.event_id.encode())])
        try:
            err, partition, offset = await asyncio.wait_for(done, timeout=30)
        except asyncio.TimeoutError:
            return self.refuse(503, "Kafka did not acknowledge the event in 30s; retry later")
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
