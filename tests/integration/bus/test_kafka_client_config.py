"""A mistake in kafka.client_config through the real ``pssync`` command, against the stack's Kafka:
one line naming ``kafka.client_config.<key>`` and librdkafka's reason, no secret value."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.integration.support import cli_env, single_error_line

pytestmark = pytest.mark.integration


def config_file(stack, tmp_path, client_config):
    config = tmp_path / "pssync.yaml"
    config.write_text(yaml.safe_dump({
        "mysql": {"port": stack.mariadb_port, "user": stack.mysql_user, "password": stack.mysql_password},
        "kafka": {"bootstrap_servers": stack.kafka_bootstrap, "client_config": client_config},
        "registry": {"url": stack.ccompat_url}}))
    return config


def pssync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pssync", *args], capture_output=True, text=True,
                          env=cli_env(), timeout=120)


# read-only commands (the old code would have run them to the end)
@pytest.mark.parametrize("command", [["cdc", "status"], ["cdc", "tail", "--idle-timeout", "1"],
                                     ["erp", "tail", "--idle-timeout", "1"], ["sink", "dead-letters"]])
def test_a_misspelt_client_config_key_is_one_line_naming_it(stack, tmp_path, command):
    config = config_file(stack, tmp_path, {"securty.protocol": "PLAINTEXT", "sasl.password": "hunter2-secret"})
    line = single_error_line(pssync(*command, "--config", str(config)))
    assert line.startswith('error: kafka.client_config.securty.protocol: librdkafka refused it: '
                           'No such configuration property: "securty.protocol"'), line
    assert "hunter2-secret" not in line


def test_a_value_librdkafka_cannot_take_is_named(stack, tmp_path):
    config = config_file(stack, tmp_path, {"security.protocol": "PLAINTEXTT"})
    line = single_error_line(pssync("cdc", "status", "--config", str(config)))
    assert line == ('error: kafka.client_config.security.protocol: librdkafka refused it: Invalid value '
                    '"PLAINTEXTT" for configuration property "security.protocol"')
