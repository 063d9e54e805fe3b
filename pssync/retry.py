"""The one retry policy of pssync, on tenacity: capped exponential backoff with full jitter, never
shorter than the other side's Retry-After, bounded in attempts (or unbounded for loops that stop
on a signal). What is worth retrying is decided by :func:`pssync.errors.is_transient` unless a
caller says otherwise (the schema registry client raises its own errors)."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from pssync.errors import is_transient

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 30.0
    max_retry_after: float = 300.0     # a longer Retry-After is handed back to the caller

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")

    def delay(self, attempt: int, error: BaseException | None = None) -> float:
        """The pause before retry number ``attempt + 1``: full jitter under the capped exponential,
        and never less than the error's ``retry_after``."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** min(attempt, 30)))
        retry_after = getattr(error, "retry_after", None)
        return max(backoff, retry_after) if retry_after is not None else backoff


def with_retries(fn: Callable[[], T], policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep, what: str = "call",
                 retry_if: Callable[[BaseException], bool] = is_transient) -> T:
    """``fn()``, tried again on errors ``retry_if`` accepts, at most ``policy.attempts`` times;
    the last error is re-raised as it is. An error asking for a pause longer than
    ``policy.max_retry_after`` is raised at once, for the caller to reschedule."""

    def worth_retrying(exc: BaseException) -> bool:
        retry_after = getattr(exc, "retry_after", None)
        return retry_if(exc) and not (retry_after is not None and retry_after > policy.max_retry_after)

    def wait(state: RetryCallState) -> float:
        return policy.delay(state.attempt_number - 1, state.outcome.exception() if state.outcome else None)

    def before_sleep(state: RetryCallState) -> None:
        log.warning("%s failed (%s); retry %d/%d in %.2fs", what,
                    state.outcome.exception() if state.outcome else "?", state.attempt_number,
                    policy.attempts - 1, state.next_action.sleep if state.next_action else 0)

    retrying = Retrying(stop=stop_after_attempt(policy.attempts), wait=wait,
                        retry=retry_if_exception(worth_retrying), sleep=sleep, reraise=True,
                        before_sleep=before_sleep)
    return retrying(fn)
