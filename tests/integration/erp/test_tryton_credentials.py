"""A wrong Tryton password against the real Tryton of the stack, through the real command: one
line naming erp.tryton.password and saying the login was refused, before anything touches Kafka;
never the server's HTML page, never the password."""
from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import yaml

from pssync.erp.errors import ErpLoginRefused, PermanentErpError
from tests.integration.erp.tryton_support import adapter, failed_logins_forgotten
from tests.integration.support import cli_env, single_error_line

pytestmark = pytest.mark.integration


def refused_line(stack) -> str:
    return (f"erp.tryton.password: Tryton at http://127.0.0.1:{stack.tryton_port} (database "
            f"{stack.tryton_database!r}) refused the login of user {stack.tryton_user!r}: check erp.tryton.user "
            "and erp.tryton.password (env PSSYNC_ERP__TRYTON__PASSWORD)")


def test_the_adapter_names_the_password_setting(stack):
    wrong = f"wrong-{uuid.uuid4().hex[:8]}"
    erp = adapter(stack, password=wrong, attempts=1)
    with failed_logins_forgotten(stack), pytest.raises(ErpLoginRefused) as raised:
        erp.check()
    erp.close()
    assert str(raised.value) == refused_line(stack)
    assert isinstance(raised.value, PermanentErpError) and raised.value.code == "auth"   # the ERP contract


def test_a_wrong_password_stops_the_erp_capture_in_one_line(stack, tmp_path):
    tag = uuid.uuid4().hex[:8]
    wrong = f"wrong-{tag}"
    config = tmp_path / "erp.yaml"
    config.write_text(yaml.safe_dump({
        "kafka": {"bootstrap_servers": stack.kafka_bootstrap}, "registry": {"url": stack.ccompat_url},
        "erp": {"kind": "tryton", "name": f"it-{tag}", "topic_prefix": f"it-{tag}",
                "offsets_topic": f"it-{tag}.erp.offsets",
                "tryton": {"url": f"http://127.0.0.1:{stack.tryton_port}", "database": stack.tryton_database,
                           "user": stack.tryton_user, "password": wrong}}}))
    with failed_logins_forgotten(stack):
        run = subprocess.run([sys.executable, "-m", "pssync", "erp", "poll", "--config", str(config)],
                             capture_output=True, text=True, timeout=120, env=cli_env())
    line = single_error_line(run)
    assert line == f"error: {refused_line(stack)}"
    assert wrong not in run.stderr
