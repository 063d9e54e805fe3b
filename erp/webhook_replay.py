"""Replay protection for the webhook receiver: the events it accepted recently, by (kind, event id).

Every payload carries an ``event_id`` and the signature covers the body, so a byte-identical replay
of a signed request and a sender's retry (re-signed with a new timestamp) both name an event id
already accepted: they are answered as duplicates and nothing is published again. The same id with
different content is a conflict. An entry lives as long as its signed timestamp is accepted
(timestamp + tolerance_s) and at least ``dedupe_s`` (default tolerance_s) after it was accepted,
so the set is bounded by the traffic of one window.

Each published event carries the entry in a header (:data:`WEBHOOK_HEADER`), so a receiver that
starts rebuilds the set from the recent end of the erp.* topics it writes (:func:`rebuild`).
The live set is per process: replicas behind a load balancer learn of each other's events only
when they start, so a retry that lands on another replica within the window is published again
(route a sender to one replica, or run one)."""
from __future__ import annotations

import enum
import hashlib
import heapq
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from confluent_kafka import Message

from pssync.erp.base import Change
from pssync.erp.topics import record_value
from pssync.schemas.headers import header
from pssync.settings import WebhookSettings

log = logging.getLogger(__name__)
WEBHOOK_HEADER = "pssync.webhook"
Key = tuple[str, str]        # (webhook kind, event id)


class Verdict(enum.Enum):
    NEW = "new"                  # claimed: publish it, then accept() or release()
    DUPLICATE = "duplicate"      # already accepted with the same content
    CONFLICT = "conflict"        # already accepted or in flight with other content
    IN_FLIGHT = "in_flight"      # the same event is being published by another request


@dataclass
class Entry:
    digest: str
    until: float                 # unix seconds after which the entry is forgotten
    accepted: bool = False
    where: tuple[str, int, int] | None = None     # topic, partition, offset once accepted


def event_digest(change: Change) -> str:
    """What the event says, as the topic carries it (decimals rounded, times in ms), so the same
    event re-serialised by a sender ("298" or 298.0) has the same digest."""
    values = record_value(change.record, "", change.version)
    values.pop("captured_at")
    canonical = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def expiry(hook: WebhookSettings, signed_at: int, now: float) -> float:
    return max(signed_at + hook.tolerance_s, now + (hook.dedupe_s or hook.tolerance_s))


def lookback_s(hook: WebhookSettings) -> float:
    """How far back an entry still alive may have been published (plus a minute of clock skew)."""
    return max(2 * hook.tolerance_s, hook.dedupe_s or hook.tolerance_s) + 60


class SeenEvents:
    """The accepted and in-flight events of the window; safe to share between threads."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, Entry] = {}
        self._expiries: list[tuple[float, Key]] = []

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._entries)

    def _expire(self) -> None:
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            until, key = heapq.heappop(self._expiries)
            entry = self._entries.get(key)
            if entry is not None and entry.until <= now:
                del self._entries[key]

    def _put(self, key: Key, entry: Entry) -> None:
        self._entries[key] = entry
        heapq.heappush(self._expiries, (entry.until, key))

    def claim(self, key: Key, digest: str, until: float) -> tuple[Verdict, Entry | None]:
        """Claim ``key`` for publishing, or say why not (with the entry that stands in the way)."""
        with self._lock:
            self._expire()
            entry = self._entries.get(key)
            if entry is None:
                self._put(key, Entry(digest, until))
                return Verdict.NEW, None
            if entry.digest != digest:
                return Verdict.CONFLICT, entry
            return (Verdict.DUPLICATE if entry.accepted else Verdict.IN_FLIGHT), entry

    def accept(self, key: Key, where: tuple[str, int, int]) -> None:
        """Kafka acknowledged the claimed event: from now on it is a duplicate."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.accepted, entry.where = True, where

    def release(self, key: Key) -> None:
        """The claimed event was not published: a retry may publish it."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not entry.accepted:
                del self._entries[key]

    def remember(self, key: Key, entry: Entry) -> bool:
        """An event accepted before this process started (read back from its topic); False when
        its window is over or the key is known already."""
        with self._lock:
            if entry.until <= self._clock() or key in self._entries:
                return False
            self._put(key, entry)
            return True


def header_value(hook: WebhookSettings, key: Key, entry: Entry) -> bytes:
    return json.dumps({"erp": hook.erp, "kind": key[0], "event_id": key[1], "digest": entry.digest,
                       "until": entry.until}, separators=(",", ":")).encode()


def rebuild(seen: SeenEvents, hook: WebhookSettings, messages: Iterable[Message]) -> int:
    """Remember the events this receiver's ERP (``hook.erp``) published among ``messages``; returns
    how many are still within their window."""
    count = 0
    for msg in messages:
        raw = header(msg.headers(), WEBHOOK_HEADER)
        if raw is None:
            continue
        try:
            data = json.loads(raw)
            if data["erp"] != hook.erp:
                continue
            key = (str(data["kind"]), str(data["event_id"]))
            entry = Entry(str(data["digest"]), float(data["until"]), True,
                          (msg.topic(), msg.partition(), msg.offset()))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable %s header at %s[%d]@%d", WEBHOOK_HEADER,
                        msg.topic(), msg.partition(), msg.offset())
            continue
        count += seen.remember(key, entry)
    return count
