"""How a sink's attempt at one command can end, other than applied."""
from __future__ import annotations
from pssync.errors import PermanentError, PssyncError, TransientError


class SinkError(PssyncError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentFailure(SinkError, PermanentError):
    """The command can never take effect as it is (unknown order, refused by the ERP): it goes to
    the dead-letter topic with the reason; the sink goes on with the next command."""


class TransientFailure(SinkError, TransientError):
    """Worth retrying (connection lost, lock wait timeout, ERP 5xx/429): the whole batch is rolled
    back and tried again after a backoff of at least ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Skipped(SinkError):
    """Nothing to do, deliberately (a stale stock level, a state the order is already in). Logged,
    and recorded as the command's effect so that replays skip it too."""
