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


class ChangeNotInRows(CaptureError):
    """A captured table was changed by a statement the binlog holds as SQL, not as rows (a session
    or the server in STATEMENT/MIXED format): the changed rows cannot be known."""


class TableTruncated(ChangeNotInRows):
    """A captured table was emptied by TRUNCATE, which the binlog holds as a statement in every
    format: the rows it removed cannot be sent as deletes."""


class AnotherCaptureRunning(CaptureError):
    """A live capture (or another binlog reader) already uses this capture name or server_id."""


class EventTooLarge(PermanentError):
    """A change event larger than its topic accepts: dead-lettered (key only), the capture goes on."""
