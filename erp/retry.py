"""Retrying transient ERP errors: capped exponential backoff with full jitter, never shorter than
the ERP's Retry-After, bounded in attempts."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pssync.erp.errors import TransientErpError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")

    def delay(self, attempt: int, error: TransientErpError) -> float:
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))
        if error.retry_after is not None:
            return max(backoff, error.retry_after)
        return backoff


def with_retries(fn: Callable[[], T], policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep, what: str = "ERP call") -> T:
    for attempt in range(policy.attempts):
        try:
            return fn()
        except TransientErpError as exc:
            if attempt + 1 >= policy.attempts:
                raise
            if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
                raise  # the ERP asks for a longer pause than we block for: the caller reschedules
            pause = policy.delay(attempt, exc)
            log.warning("%s failed (%s); retry %d/%d in %.2fs", what, exc, attempt + 1,
                        policy.attempts - 1, pause)
            sleep(pause)
    raise AssertionError("unreachable")
