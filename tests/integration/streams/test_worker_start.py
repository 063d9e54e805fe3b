"""`pssync streams worker` refuses to start when its internal topics have another partition count
than streams.partitions (its state is kept by partition), naming the topics."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
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


def worker_run(config, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
    return subprocess.run([sys.executable, "-m", "pssync", "streams", "worker", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_a_missing_rules_file_is_one_line_naming_the_key_and_the_path(scratch, tmp_path):
    """The default streams.rules is relative: run from elsewhere, the file is not there (the shop
    database is read first, the rules are checked against it)."""
    settings, config = streams_settings(scratch, tmp_path)
    settings.streams.rules = "deploy/rules.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    run = worker_run(config, cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [
        f"error: streams.rules: deploy/rules.yaml does not exist (relative to the working directory {tmp_path}): "
        "set streams.rules (or PSSYNC_STREAMS__RULES) to the file"]


def test_a_rules_file_that_is_not_yaml_is_one_line_with_line_and_column(scratch, tmp_path):
    settings, config = streams_settings(scratch, tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text((REPO / "deploy" / "rules.yaml").read_text() + "entities:\n\tproduct: {}\n")
    settings.streams.rules = str(rules)
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    run = worker_run(config, cwd=tmp_path)
    lines = (REPO / "deploy" / "rules.yaml").read_text().count("\n")
    assert run.returncode == 1 and run.stdout == "" and "Traceback" not in run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith(f"error: streams.rules: {rules}: line {lines + 2} column 1: found character '\\t'")
