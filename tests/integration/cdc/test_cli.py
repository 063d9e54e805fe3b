"""The `pssync cdc` commands as an operator runs them."""
from __future__ import annotations

import json
import os

import pytest

from tests.integration.support import CaptureThread, run_cli

pytestmark = pytest.mark.integration


def test_status_reports_position_and_lag(scratch, tmp_path):
    import yaml

    settings = scratch.settings(["orders"])
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))

    never = run_cli("cdc", "status", "--json", "--config", str(config))
    assert never.returncode == 0, never.stderr
    assert json.loads(never.stdout)["state"] == "never run (no committed offset)"

    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
    scratch.sql("UPDATE ps_orders SET current_state=2 WHERE id_order=1")
    scratch.sql("UPDATE ps_orders SET current_state=3 WHERE id_order=1")
    behind = json.loads(run_cli("cdc", "status", "--json", "--config", str(config)).stdout)
    assert behind["state"] == "stopped"          # not running: never "streaming"
    assert behind["transactions_behind"] >= 2
    assert behind["bytes_behind"] > 0

    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
    caught_up = json.loads(run_cli("cdc", "status", "--json", "--config", str(config)).stdout)
    assert caught_up["transactions_behind"] == 0
    assert caught_up["committed_gtid"] == caught_up["head_gtid"]


def test_invalid_configuration_is_refused_naming_the_key(tmp_path):
    env = {**os.environ, "PSSYNC_MYSQL__PORT": "not-a-port"}
    done = run_cli("cdc", "run", env=env)
    assert done.returncode == 2
    assert "mysql.port" in done.stderr and "PSSYNC_MYSQL__PORT" in done.stderr


def test_tail_shows_dates_as_dates_not_debeziums_epoch_numbers(scratch, tmp_path):
    import yaml

    settings = scratch.settings(["orders"], datetime_zone="Europe/Paris")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    scratch.sql("UPDATE ps_orders SET date_add='2026-07-01 10:00:00' WHERE id_order=1")
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
    done = run_cli("cdc", "tail", "--table", "orders", "--from-beginning", "--idle-timeout", "3",
                   "--config", str(config))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    (first,) = [r for r in rows if r["key"] == {"id_order": 1}]
    assert first["row"]["date_add"] == "2026-07-01T08:00:00+00:00"      # 10:00 in Paris, summer time
    assert first["row"]["total_paid_tax_incl"] == str(scratch.sql(
        "SELECT total_paid_tax_incl FROM ps_orders WHERE id_order=1")[0]["total_paid_tax_incl"])
