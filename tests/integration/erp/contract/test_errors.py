"""How every ERP adapter reports failures (erp/errors.py): transient ones (429, 503, timeouts)
as TransientErpError with the ERP's Retry-After, retried within bounds; permanent ones with the
ERP's message, never retried; credentials never in any message, setting or log line."""
from __future__ import annotations

import logging
import time
import uuid

import pytest

from pssync.erp.errors import PermanentErpError, TransientErpError
from tests.integration.erp.subjects import Subject

pytestmark = pytest.mark.integration


def nowhere() -> str:
    return f"PS-NONE-{uuid.uuid4().hex[:8]}"


@pytest.mark.promise("transient_error")
@pytest.mark.parametrize("kind", ["429", "503", "timeout"])
def test_transient_failures_are_classified_transient_with_retry_after(subject: Subject, kind):
    erp = subject.variant(attempts=1, timeout=0.5)       # no retry: the error itself is seen
    fault = subject.driver.fail_next(1, kind, retry_after="7")

    with pytest.raises(TransientErpError) as info:
        erp.find_sales_order(nowhere())

    assert fault.taken == 1
    if kind == "timeout":
        assert info.value.status is None and info.value.retry_after is None
    else:
        assert (info.value.status, info.value.retry_after) == (int(kind), 7.0)


@pytest.mark.promise("transient_error")
def test_transient_failures_are_retried_until_the_erp_answers(subject: Subject):
    erp = subject.variant(timeout=0.5)                   # the default attempts (5)
    faults = [subject.driver.fail_next(1, kind, retry_after="0")
              for kind in ("429", "503", "timeout")]

    assert erp.find_sales_order(nowhere()) is None
    assert [f.taken for f in faults] == [1, 1, 1]


@pytest.mark.promise("transient_error")
def test_retries_are_bounded(subject: Subject):
    erp = subject.variant(attempts=3)
    fault = subject.driver.fail_next(10, "503")

    with pytest.raises(TransientErpError) as info:
        erp.find_sales_order(nowhere())

    assert info.value.status == 503
    assert fault.taken == 3


@pytest.mark.promise("transient_error")
def test_retry_after_is_waited_for_before_the_retry(subject: Subject):
    fault = subject.driver.fail_next(1, "429", retry_after="1")
    started = time.monotonic()

    assert subject.adapter.find_sales_order(nowhere()) is None

    assert time.monotonic() - started >= 1.0             # measured, not used to wait for state
    assert fault.taken == 1


@pytest.mark.promise("permanent_read_refusal")
def test_a_permanent_refusal_of_a_read_carries_the_erps_message_and_is_not_retried(
        subject: Subject):
    fault = subject.driver.fail_next(1, "validation")

    with pytest.raises(PermanentErpError) as info:
        subject.adapter.stock_snapshot()

    assert not isinstance(info.value, TransientErpError)
    assert subject.driver.validation_message in info.value.erp_message
    assert fault.taken == 1                              # asked once, not again


@pytest.mark.promise("secrets")
def test_secrets_never_show_in_errors_settings_or_logs(subject: Subject, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = subject.variant(wrong_credentials=True)

    with pytest.raises(PermanentErpError) as info:
        wrong.find_sales_order(nowhere())
    assert not isinstance(info.value, TransientErpError)
    assert info.value.code == "auth" or info.value.status == 401

    subject.driver.fail_next(1, "503")                   # a logged retry with good credentials
    assert subject.adapter.find_sales_order(nowhere()) is None
    assert "retry" in caplog.text

    secrets = subject.secrets()
    assert secrets, "nothing to look for"
    shown = {"error": str(info.value) + repr(info.value), "log": caplog.text,
             **{f"settings of {a.name}": repr(a.settings) + str(a.settings.model_dump())  # type: ignore[attr-defined]
                for a in (wrong, subject.adapter)}}
    leaks = {(where, secret) for where, text in shown.items() for secret in secrets if secret in text}
    assert not leaks, f"secrets shown: {sorted(where for where, _ in leaks)}"


@pytest.mark.promise("check")
def test_check_refuses_wrong_credentials_at_once_and_passes_right_ones(subject: Subject):
    """The ERP capture and the ERP sink call check() at start: wrong credentials stop them there."""
    wrong = subject.variant(wrong_credentials=True)
    with pytest.raises(PermanentErpError) as info:
        wrong.check()
    assert info.value.code == "auth"
    assert not isinstance(info.value, TransientErpError)
    subject.adapter.check()
