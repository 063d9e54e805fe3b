"""`pssync streams worker` refuses source topics it cannot join correctly, with the reason."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.streams.test_orders_to_erp import REPO, streams_settings

pytestmark = pytest.mark.integration


def test_a_multi_partition_source_topic_is_refused_at_start(scratch, tmp_path):
    settings, config = streams_settings(scratch, tmp_path)
    topic = scratch.topic("order_detail")
    admin = AdminClient({"bootstrap.servers": scratch.stack.kafka_bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
        future.result(30)
    run = subprocess.run([sys.executable, "-m", "pssync", "streams", "worker", "--config", str(config)],
                         capture_output=True, text=True, timeout=120, cwd=REPO,
                         env={**os.environ, "PSSYNC_CONFIG": str(config)})
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{topic} (3 partitions)" in run.stderr and "single-partition" in run.stderr
