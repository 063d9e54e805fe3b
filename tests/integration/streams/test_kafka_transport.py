"""Faust agents must never see change events of Kafka transactions the capture aborted."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from pssync.bus.kafka import ensure_topics
from pssync.settings import KafkaSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def run_probe(stack, tmp_path, topic: str, transport: str) -> list[str]:
    out = tmp_path / f"seen-{transport}.txt"
    env = {**os.environ, "PSSYNC_PROBE_APP": f"probe-{uuid.uuid4().hex[:8]}", "PSSYNC_PROBE_TOPIC": topic,
           "PSSYNC_PROBE_BROKER": stack.kafka_bootstrap, "PSSYNC_PROBE_OUT": str(out),
           "PSSYNC_PROBE_TRANSPORT": transport,
           # Faust keeps its data directory in the working directory: keep it out of the checkout.
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "faust", "-A", "tests.integration.streams.faust_probe_app",
                             "worker", "-l", "warn", "--without-web"],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and "committed-2" in out.read_text():
                break
            time.sleep(0.2)
        time.sleep(1)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:   # Faust's graceful shutdown can be slow
            proc.kill()
            proc.wait(10)
    return out.read_text().split() if out.exists() else []


def test_faust_agents_read_only_committed_capture_transactions(stack, tmp_path):
    topic = f"probe-{uuid.uuid4().hex[:8]}"
    ensure_topics(KafkaSettings(bootstrap_servers=stack.kafka_bootstrap), {topic: {}})
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap, "transactional.id": topic,
                         "compression.type": "lz4"})
    producer.init_transactions(30)
    for value, commit in (("committed-1", True), ("aborted", False), ("committed-2", True)):
        producer.begin_transaction()
        producer.produce(topic, value=value.encode())
        producer.flush(10)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    assert run_probe(stack, tmp_path, topic, "rc") == ["committed-1", "committed-2"]
