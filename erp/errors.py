"""How ERP failures are classified: transient ones are retried with backoff (honouring
Retry-After), permanent ones are reported with the ERP's own message and never retried blindly."""
from __future__ import annotations
from pssync.errors import ConfigError, PermanentError, PssyncError, TransientError


class ErpError(PssyncError):
    def __init__(self, erp: str, message: str, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(f"{erp}: {message}")
        self.erp = erp
        self.erp_message = message
        self.status = status
        self.code = code


class TransientErpError(ErpError, TransientError):
    """Timeouts, connection failures, 5xx, 429: worth retrying."""

    def __init__(self, erp: str, message: str, *, status: int | None = None,
                 code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(erp, message, status=status, code=code)
        self.retry_after = retry_after


class PermanentErpError(ErpError, PermanentError):
    """The ERP refused the request itself (validation, unknown product, credit limit,
    authentication): retrying the same request cannot succeed."""


class UnknownProduct(PermanentErpError):
    pass


class NotFound(PermanentErpError):
    pass


class ErpLoginRefused(PermanentErpError, ConfigError):
    """The ERP refused pssync's credentials: a configuration mistake, not a record's. Never
    retried nor dead-lettered: the command stops with the message, which names the settings."""

    def __init__(self, erp: str, message: str, *, status: int | None = None) -> None:
        super().__init__(erp, message, status=status, code="auth")
        self.args = (message,)       # it names the setting already: no "<erp>: " in front
