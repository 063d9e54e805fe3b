"""pssync/retry.py: backoff never shorter than the ERP's Retry-After, bounded attempts, permanent
errors never retried."""
from __future__ import annotations

import random

import pytest

from pssync.erp.errors import PermanentErpError, TransientErpError
from pssync.retry import RetryPolicy, with_retries


def transient(retry_after: float | None = None) -> TransientErpError:
    return TransientErpError("acme", "busy", status=503, retry_after=retry_after)


@pytest.mark.parametrize("retry_after", [0.0, 0.5, 2.5, 29.0, 250.0])
def test_delay_is_never_below_retry_after(retry_after):
    policy = RetryPolicy(base_delay=0.2, max_delay=30.0)
    random.seed(7)
    for attempt in range(12):
        assert policy.delay(attempt, transient(retry_after)) >= retry_after


def test_a_retry_after_longer_than_we_block_is_given_back_not_shortened():
    policy = RetryPolicy(max_delay=30.0, max_retry_after=300.0)
    calls, sleeps = [], []

    def busy():
        calls.append(1)
        raise transient(10_000)

    with pytest.raises(TransientErpError) as err:
        with_retries(busy, policy, sleep=sleeps.append)
    assert err.value.retry_after == 10_000      # the caller reschedules with the ERP's own pause
    assert calls == [1] and sleeps == []        # never retried earlier than the ERP asked


def test_delay_without_retry_after_is_capped_exponential_jitter():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    random.seed(3)
    for attempt in range(10):
        delays = [policy.delay(attempt, transient()) for _ in range(50)]
        assert all(0 <= d <= min(4.0, 0.5 * 2 ** attempt) for d in delays)


def test_bounded_attempts_then_the_last_error():
    calls, sleeps = [], []

    def fn():
        calls.append(1)
        raise transient(retry_after=1.5)
    with pytest.raises(TransientErpError):
        with_retries(fn, RetryPolicy(attempts=4), sleep=sleeps.append)
    assert len(calls) == 4
    assert len(sleeps) == 3 and all(s >= 1.5 for s in sleeps)


def test_success_after_transient_failures():
    outcomes = iter([transient(), transient(0.1), "done"])
    sleeps = []

    def fn():
        value = next(outcomes)
        if isinstance(value, Exception):
            raise value
        return value
    assert with_retries(fn, RetryPolicy(attempts=5), sleep=sleeps.append) == "done"
    assert len(sleeps) == 2 and sleeps[1] >= 0.1


def test_permanent_errors_are_not_retried():
    calls, sleeps = [], []

    def fn():
        calls.append(1)
        raise PermanentErpError("acme", "bad", status=400)
    with pytest.raises(PermanentErpError):
        with_retries(fn, RetryPolicy(attempts=5), sleep=sleeps.append)
    assert calls == [1] and sleeps == []


def test_single_attempt_policy_does_not_sleep():
    sleeps = []
    with pytest.raises(TransientErpError):
        with_retries(lambda: (_ for _ in ()).throw(transient(5)), RetryPolicy(attempts=1),
                     sleep=sleeps.append)
    assert sleeps == []


def test_zero_attempts_is_rejected_or_calls_once():
    calls = []
    try:
        with_retries(lambda: calls.append(1) or "ok", RetryPolicy(attempts=0))
    except ValueError:
        return                                       # rejecting the policy would also be fine
    assert calls == [1]
