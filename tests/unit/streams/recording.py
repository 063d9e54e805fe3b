"""Recording stand-ins for the topics the processors write (streams.outputs.Outputs), and a way
to run a handler's coroutine in a test."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from pssync.jsontext import plain
from pssync.schemas.codec import Codec, MemoryStore
from pssync.schemas.headers import header
from pssync.streams.outputs import Outputs
from pssync.streams.routes import KIND_HEADER

CODEC = Codec(MemoryStore())      # the contracts' wire format, schemas kept in memory


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None
    headers: Any

    @property
    def json(self) -> Any:
        """The value as JSON would carry it: a contract (registered Avro) decoded, with decimals,
        times and ids as text; an internal hub event (JSON) as it is."""
        if self.value is not None and self.value[:1] == b"\x00":
            record = json.loads(json.dumps(CODEC.decode_record(self.value, self.topic), default=plain))
            if self.topic == "dead_letters":          # the processors' envelope: its record is JSON text
                record["record"] = json.loads(record["record"])
            return record
        return json.loads(self.value)

    @property
    def kind(self) -> str | None:
        found = header(self.headers, KIND_HEADER)
        return None if found is None else found.decode()


@dataclass
class RecordingTopic:
    name: str
    log: list[Sent]

    async def send(self, *, key: bytes | None = None, value: bytes | None = None, partition: int | None = None,
                   headers: Any = None) -> None:
        self.log.append(Sent(self.name, key, value, partition, headers))

    def get_topic_name(self) -> str:
        return self.name


@dataclass
class Recorder:
    """Everything sent, in order; ``outputs`` writes here. Topics: commands, shop_commands,
    dead_letters, violations, alerts, hub:shop, hub:stock."""
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        topics = {name: RecordingTopic(name, self.sent)
                  for name in ("commands", "shop_commands", "dead_letters", "violations", "alerts")}
        self.outputs = Outputs(**topics, hubs={"shop": RecordingTopic("hub:shop", self.sent),
                                               "stock": RecordingTopic("hub:stock", self.sent)}, codec=CODEC)

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    def values(self, topic: str) -> list[Any]:
        return [s.json for s in self.on(topic)]

    def clear(self) -> None:
        self.sent.clear()
