"""`pssync streams worker` refuses to start when its internal topics have another partition count
than streams.partitions (its state is kept by partition), naming the topics."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from pssync.streams.cli import hub_topics
from tests.integration.streams.test_orders_to_erp import REPO, streams_settings

pytestmark = pytest.mark.integration


def test_internal_topics_with_another_partition_count_are_refused_at_start(scratch, tmp_path):
    settings, config = streams_settings(scratch, tmp_path)
    assert settings.streams.partitions == 1
    topic = hub_topics(settings)[0]
    admin = AdminClient({"bootstrap.servers": scratch.stack.kafka_bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
        future.result(30)
    run = subprocess.run([sys.executable, "-m", "pssync", "streams", "worker", "--config", str(config)],
                         capture_output=True, text=True, timeout=120, cwd=REPO,
                         env={**os.environ, "PSSYNC_CONFIG": str(config)})
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{topic} (3 partitions)" in run.stderr and "streams.partitions is 1" in run.stderr
