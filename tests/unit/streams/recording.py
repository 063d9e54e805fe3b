"""Recording stand-ins for the topics the processors write (streams.outputs.Outputs), and a way
to run a handler's coroutine in a test."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from pssync.streams.outputs import Outputs
from pssync.streams.routes import KIND_HEADER


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None
    headers: dict[str, bytes] | None

    @property
    def json(self) -> Any:
        return json.loads(self.value)

    @property
    def kind(self) -> str | None:
        found = (self.headers or {}).get(KIND_HEADER)
        return None if found is None else found.decode()


@dataclass
class RecordingTopic:
    name: str
    log: list[Sent]

    async def send(self, *, key: bytes | None = None, value: bytes | None = None, partition: int | None = None,
                   headers: dict[str, bytes] | None = None) -> None:
        self.log.append(Sent(self.name, key, value, partition, headers))


@dataclass
class Recorder:
    """Everything sent, in order; ``outputs`` writes here. Topics: commands, shop_commands,
    dead_letters, violations, alerts, hub:shop, hub:stock."""
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        topics = {name: RecordingTopic(name, self.sent)
                  for name in ("commands", "shop_commands", "dead_letters", "violations", "alerts")}
        self.outputs = Outputs(**topics, hubs={"shop": RecordingTopic("hub:shop", self.sent),
                                               "stock": RecordingTopic("hub:stock", self.sent)})

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    def values(self, topic: str) -> list[Any]:
        return [s.json for s in self.on(topic)]

    def clear(self) -> None:
        self.sent.clear()
