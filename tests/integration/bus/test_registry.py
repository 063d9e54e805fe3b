"""The schema registry client against the real Apicurio of the local stack."""
from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import pytest
import yaml

from pssync.bus.registry import API_HINT, Registry
from pssync.settings import ConfigError, RegistrySettings
from tests.integration.streams.test_orders_to_erp import REPO, streams_settings
from tests.integration.support import cli_env, run_cli, single_error_line

pytestmark = pytest.mark.integration


def test_concurrent_first_registrations_of_a_subject_all_succeed(stack):
    # Apicurio answers all but one of simultaneous "set compatibility" calls on a new subject
    # with 409 "rule already exists": two capture instances starting together hit exactly that
    settings = RegistrySettings(url=stack.ccompat_url)
    for _ in range(3):
        subject = f"race-{uuid.uuid4().hex[:8]}-value"
        errors: list[Exception] = []

        def register() -> None:
            try:
                Registry(settings).ensure_compatibility(subject)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=register) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert Registry(settings).client.get_compatibility(subject) == "BACKWARD"


# ---- a registry.url that is not the Confluent-compatible API, through the real command ----------------
WRONG_URLS = ["/apis/ccompat/v9", "/", "/apis/registry/v3"]


def wrong_url(stack, path: str) -> str:
    return stack.ccompat_url.split("/apis/")[0] + path


@pytest.mark.parametrize("path", WRONG_URLS)
def test_the_registry_check_names_registry_url(stack, path):
    url = wrong_url(stack, path)
    with pytest.raises(ConfigError) as raised:
        Registry(RegistrySettings(url=url)).check()
    assert str(raised.value) == (f"schema registry at {url} answered 404 Not Found while trying to list "
                                 f"subjects: {API_HINT}")


@pytest.mark.parametrize("path", WRONG_URLS)
@pytest.mark.parametrize("command", [["cdc", "tail", "--idle-timeout", "1"], ["erp", "tail", "--idle-timeout", "1"]])
def test_a_wrong_registry_url_is_one_line_from_the_readers(stack, path, command):
    url = wrong_url(stack, path)
    line = single_error_line(run_cli(*command, env={**cli_env(), "PSSYNC_REGISTRY__URL": url,
                                                    "PSSYNC_KAFKA__BOOTSTRAP_SERVERS": stack.kafka_bootstrap}))
    assert line == f"error: schema registry at {url} answered 404 Not Found while trying to list subjects: {API_HINT}"


def test_a_wrong_registry_url_stops_the_capture_in_one_line(scratch, tmp_path):
    settings = scratch.settings(["orders"])
    settings.registry.url = url = wrong_url(scratch.stack, "/apis/ccompat/v9")
    config = tmp_path / "capture.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    line = single_error_line(run_cli("cdc", "run", "--config", str(config), env=cli_env()))
    assert line.startswith(f"error: schema registry at {url} answered 404 Not Found"), line
    assert "registry.url must point at the Confluent-compatible API" in line


def test_a_wrong_registry_url_stops_the_processors_at_start(scratch, tmp_path):
    """Before, the processors started and sent every record they could not decode to dead letters."""
    settings, config = streams_settings(scratch, tmp_path)
    settings.registry.url = url = wrong_url(scratch.stack, "/")
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    run = subprocess.run([sys.executable, "-m", "pssync", "streams", "worker", "--config", str(config)],
                         capture_output=True, text=True, timeout=120, cwd=REPO, env=cli_env())
    line = single_error_line(run)
    assert line.startswith(f"error: schema registry at {url} answered 404 Not Found"), line
