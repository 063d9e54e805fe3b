"""The ERP sink with a password the real Tryton refuses: it stops in one line naming
erp.tryton.password, at start through the command and, if the password stops working while it
runs, at the command it was applying; no command is dead-lettered for it, none is marked done."""
from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from pssync.bus.kafka import ensure_topics
from pssync.erp.errors import ErpLoginRefused
from pssync.erp.registry import build_adapter
from pssync.sinks.erp import ErpApplier
from tests.integration.erp.tryton_support import failed_logins_forgotten
from tests.integration.sinks.support import RunnerThread
from tests.integration.sinks.test_erp_sink import connector, log_rows, order, produce, sink_settings
from tests.integration.support import cli_env, single_error_line

pytestmark = pytest.mark.integration


def records_in(settings, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "it-watermarks"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        return high - low
    finally:
        consumer.close()


def wrong_settings(stack, tag, state_db):
    settings = sink_settings(stack, tag, state_db, password=f"wrong-{uuid.uuid4().hex[:8]}")
    ensure_topics(settings.kafka, {settings.streams.commands_topic: {}, settings.sinks.dead_letter_topic: {}})
    produce(settings, [order(tag, 1, [("ANY-SKU", "1", "1.00")])])
    return settings


def refused(stack) -> str:
    return (f"erp.tryton.password: Tryton at http://127.0.0.1:{stack.tryton_port} (database "
            f"{stack.tryton_database!r}) refused the login of user {stack.tryton_user!r}")


def test_the_sink_command_stops_at_start_in_one_line(stack, tag, state_db, tmp_path):
    settings = wrong_settings(stack, tag, state_db)
    config = tmp_path / "sink.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    with failed_logins_forgotten(stack):
        run = subprocess.run([sys.executable, "-m", "pssync", "sink", "erp", "--config", str(config)],
                             capture_output=True, text=True, timeout=120, env=cli_env())
    assert single_error_line(run).startswith(f"error: {refused(stack)}: check erp.tryton.user")
    assert settings.erp.options()["password"] not in run.stderr
    assert records_in(settings, settings.sinks.dead_letter_topic) == 0


def test_a_refused_login_while_running_stops_the_sink_and_dead_letters_nothing(stack, tag, state_db):
    """Before, each command was dead-lettered with Tryton's 401 page as the reason."""
    settings = wrong_settings(stack, tag, state_db)
    applier = ErpApplier(settings, build_adapter(settings.erp.kind, settings.erp.options()))
    sink = RunnerThread(settings, applier, connector(settings))     # no check at start: as if the password changed
    with failed_logins_forgotten(stack):
        sink.thread.start()
        sink.thread.join(120)                  # the runner ends on its own, with the error
        ended = not sink.thread.is_alive()
        sink.join(raise_error=False)
    assert ended, "the sink went on running"
    assert isinstance(sink.error, ErpLoginRefused) and str(sink.error).startswith(refused(stack))
    assert records_in(settings, settings.sinks.dead_letter_topic) == 0
    assert [r["outcome"] for r in log_rows(settings)] in ([], ["retry"])     # nothing settled
