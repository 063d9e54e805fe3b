from pssync.errors import PermanentError


class CaptureError(PermanentError):
    """A condition the operator has to act on; the message says what and how."""


class SourceMisconfigured(CaptureError):
    pass


class MissingPrivileges(CaptureError):
    pass


class PositionPurged(CaptureError):
    pass


class DisplacedByAnotherReader(CaptureError):
    """Another binlog reader connected with the same server_id (MariaDB error 4052)."""
