"""Configuration mistakes through the real ``pssync`` command: one line on stderr naming the key (or
file, line and column) and the fix, nothing on stdout, no traceback, a non-zero exit. They are all
found before anything is connected to."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def pssync(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("PSSYNC_")}
    return subprocess.run([sys.executable, "-m", "pssync", *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


def one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0, done
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# read-only commands: on the old code they would run
@pytest.mark.parametrize("command", [["cdc", "status"], ["erp", "mapping", "show"], ["sink", "log"]])
def test_a_misspelt_variable_stops_every_command(command):
    line = one_line(pssync(*command, PSSYNC_MYSQL_PORT="3307"))
    assert "PSSYNC_MYSQL_PORT names no setting" in line and "did you mean PSSYNC_MYSQL__PORT?" in line


def test_an_unknown_section_in_a_variable_is_named():
    line = one_line(pssync("cdc", "status", PSSYNC_MYSQLL__PORT="3307"))
    assert "PSSYNC_MYSQLL__PORT names no setting" in line and "PSSYNC_MYSQL__PORT" in line


@pytest.mark.parametrize("text, where", [("mysql:\n\tport: 3307\n", "line 2 column 1"),
                                         ("capture:\n  tables: [orders\n", "line 3 column 1")])
def test_bad_yaml_names_file_line_and_column(tmp_path, text, where):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    line = one_line(pssync("cdc", "status", "--config", str(config)))
    assert line.startswith(f"config file {config}: {where}: ")


def test_a_missing_order_mapping_stops_the_processors_naming_key_and_path(tmp_path):
    missing = tmp_path / "order_mapping.yaml"
    line = one_line(pssync("streams", "worker", PSSYNC_STREAMS__ORDER_MAPPING=str(missing)))
    assert line == (f"error: streams.order_mapping: {missing} does not exist: set streams.order_mapping "
                    "(or PSSYNC_STREAMS__ORDER_MAPPING) to the file")


def test_an_order_mapping_that_is_not_yaml_names_line_and_column(tmp_path):
    broken = tmp_path / "order_mapping.yaml"
    broken.write_text("states: {PS_OS_PAYMENT: confirm\n")
    line = one_line(pssync("streams", "worker", PSSYNC_STREAMS__ORDER_MAPPING=str(broken)))
    assert line.startswith(f"error: streams.order_mapping: {broken}: line 2 column 1: ")
