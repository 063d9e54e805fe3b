"""Rows over 1 MB (a long product description, a module's serialized configuration): the capture's
topics accept what its producer writes, and a row too large even for that goes to the dead-letter
topic with its key and the reason while the capture goes on."""
from __future__ import annotations

import json

import pytest

from pssync.bus.kafka import admin, ensure_topics
from pssync.cdc.capture import dead_letter_topic
from confluent_kafka.admin import ConfigResource, ResourceType
from tests.integration.support import CaptureThread, read_settled

pytestmark = pytest.mark.integration

DESCRIPTION = "Une description très longue — " * 50_000        # about 1.6 MB in UTF-8


def max_message_bytes(settings, topic: str) -> int:
    client = admin(settings.kafka)
    [future] = client.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    return int(future.result(30)["max.message.bytes"].value)


def test_a_row_over_1_mb_is_captured_whole(scratch):
    assert len(DESCRIPTION.encode()) > 1_500_000
    settings = scratch.settings(["product_lang"])
    topic = scratch.topic("product_lang")
    # a topic that exists already at the broker's default is raised to what the capture writes
    ensure_topics(settings.kafka, {topic: {"max.message.bytes": "1048588"}})
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_product_lang SET description=%s WHERE id_product=1 AND id_lang=1 AND id_shop=1",
                    args=(DESCRIPTION,))
        cap.wait_committed(scratch.gtid_seq())
    assert max_message_bytes(settings, topic) == settings.capture.max_event_bytes
    updates = [e for e in scratch.read_topic(topic, min_count=1) if e.value and e.value["op"] == "u"]
    assert [e.value["after"]["description"] for e in updates] == [DESCRIPTION]


def test_a_row_larger_than_the_topic_accepts_is_dead_lettered_and_the_capture_goes_on(scratch):
    settings = scratch.settings(["product_lang"], max_event_bytes=1_000_000)
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        scratch.sql("UPDATE ps_product_lang SET description=%s WHERE id_product=1 AND id_lang=1 AND id_shop=1",
                    args=(DESCRIPTION,))
        too_large = scratch.sql("SELECT @@last_gtid AS g")[0]["g"]
        scratch.sql("UPDATE ps_product_lang SET name='Short again' WHERE id_product=2 AND id_lang=1 AND id_shop=1")
        cap.wait_committed(scratch.gtid_seq())

    updates = [e for e in scratch.read_topic(scratch.topic("product_lang"), min_count=1)
               if e.value and e.value["op"] == "u"]
    assert [(e.key["id_product"], e.value["after"]["name"]) for e in updates] == [(2, "Short again")]
    [dead] = read_settled(scratch.stack.kafka_bootstrap, [dead_letter_topic(settings)], min_count=1)
    headers = {k: v.decode() for k, v in dead.headers()}
    reason = headers["__connect.errors.exception.message"]
    assert "is larger than topic" in reason and "capture.max_event_bytes" in reason, reason
    assert headers["__connect.errors.exception.class.name"] == "EventTooLarge"
    assert headers.get("pssync.gtid", too_large) == too_large
    payload = json.loads(dead.value())
    assert payload["row"] == {"id_product": 1, "id_shop": 1, "id_lang": 1}
    assert len(dead.value()) < 10_000
