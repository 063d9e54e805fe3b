"""While Kafka cannot be reached, the clients do not flood the log (librdkafka repeats a failed
connection about 8 times a second per client) and the writer says once, itself, that Kafka is
away and how much is waiting. Uses a port nothing listens on; the shared broker is untouched."""
from __future__ import annotations

import logging
import socket
import time

import pytest

from pssync.bus.kafka import broker_watch, idempotent_producer
from pssync.settings import KafkaSettings

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]          # closed again on leaving: nothing listens there


def test_unreachable_broker_is_logged_once_not_per_retry(caplog, capfd):
    settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{closed_port()}")
    caplog.set_level(logging.DEBUG, logger="pssync.bus")
    producer = idempotent_producer(settings)
    watch = broker_watch(settings)
    for i in range(100):
        producer.produce("pssync-outage-test", key=str(i).encode(), value=b"x")
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:     # a writer held up, as the capture is in its commit
        producer.poll(0.2)
        watch.waiting(len(producer))
    producer.purge()
    producer.flush(1)

    client_lines = [r for r in caplog.records if r.name == "pssync.bus.librdkafka"]
    stderr_lines = [line for line in capfd.readouterr().err.splitlines() if "rdkafka" in line]
    assert len(client_lines) + len(stderr_lines) <= 10, [r.getMessage() for r in client_lines] + stderr_lines
    assert client_lines, "librdkafka's lines should reach Python logging"
    ours = [r.getMessage() for r in caplog.records
            if r.name == "pssync.bus.kafka" and "unreachable since" in r.getMessage()]
    assert len(ours) == 1, ours
    assert ours[0].startswith(f"Kafka at {settings.bootstrap_servers} unreachable since ")
    assert "100 events waiting; retrying" in ours[0]

    watch.reachable()
    assert any(f"Kafka at {settings.bootstrap_servers} reachable again" in r.getMessage()
               for r in caplog.records)
