"""Print change events as people read them: one JSON line per event, decoded via the registry."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

from confluent_kafka import KafkaError

from pssync.bus.avro import RegistryDecoder
from pssync.bus.kafka import read_committed_consumer
from pssync.bus.registry import Registry
from pssync.cdc import database
from pssync.cdc.events import topic_for
from pssync.jsontext import plain as _plain
from pssync.schemas.change_events import row_adapter
from pssync.settings import Settings


def summarise(topic: str, key: dict | None, value: dict | None) -> dict[str, Any]:
    if value is None:
        return {"topic": topic, "key": key, "op": "tombstone"}
    row = value["after"] if value["after"] is not None else value["before"]
    changed = None
    if value["op"] == "u" and value["before"] and value["after"]:
        changed = {k: [_plain(value["before"][k]), _plain(v)] for k, v in value["after"].items()
                   if value["before"].get(k) != v}
    out: dict[str, Any] = {"table": value["source"]["table"], "op": value["op"], "key": key,
                           "gtid": value["source"]["gtid"]}
    if changed is not None:
        out["changed"] = changed
    else:
        out["row"] = {k: _plain(v) for k, v in (row or {}).items()}   # 0, '' and null are values too
    return out


def tail(settings: Settings, tables: list[str], from_beginning: bool,
         idle_timeout: float | None) -> Iterator[dict[str, Any]]:
    topics = [topic_for(settings.capture.topic_prefix, settings.mysql.database,
                        database.prefixed(settings.mysql, t)) for t in tables]
    for topic, key, value in tail_topics(settings, topics, from_beginning, idle_timeout):
        yield summarise(topic, key, value)


def tail_topics(settings: Settings, topics: list[str], from_beginning: bool,
                idle_timeout: float | None) -> Iterator[tuple[str, Any, Any]]:
    """(topic, key, value) of committed Avro events, decoded through the registry."""
    registry = Registry(settings.registry)
    registry.check()                   # a wrong registry.url is one line before anything is read
    # change events as people read them: DATETIME in the shop's zone, DATE and TIMESTAMP as dates
    # (schemas/change_events.py), not Debezium's epoch numbers
    decode = RegistryDecoder(registry.client, partial(row_adapter, zone_name=settings.capture.datetime_zone))
    consumer = read_committed_consumer(settings.kafka, f"pssync-tail-{uuid.uuid4().hex[:8]}",
                                       **{"auto.offset.reset": "earliest" if from_beginning else "latest"})
    consumer.subscribe(topics)
    last = time.monotonic()
    try:
        while idle_timeout is None or time.monotonic() - last < idle_timeout:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                raise RuntimeError(f"reading {msg.topic()}: {msg.error()}")
            last = time.monotonic()
            yield msg.topic(), decode(msg.key()), decode(msg.value())
    finally:
        consumer.close()


def to_line(event: Any) -> str:
    return json.dumps(event, default=_plain, ensure_ascii=False)
