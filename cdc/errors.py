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


class SchemaConflict(CaptureError):
    """The registry refused a captured table's new schema (a type-changing ALTER): that table is
    held (its events wait, its position kept in the offset) while the others stream on. The
    message names the table, the refusal and the fix (``pssync cdc resolve``)."""


def held_message(hold, database: str, table_prefix: str) -> str:
    """What a hold says in the log, the dead letter, the alert and ``pssync cdc status``."""
    short = hold.table.removeprefix(table_prefix)
    return (f"{database}.{hold.table} held on a schema conflict: {hold.reason}. Its events from GTID "
            f"{hold.at_gtid or '?'} on are not emitted (none is lost: the capture reads them again from "
            f"GTID position {hold.gtid!r} once resolved); the other tables stream on. {resolve_fix(short)}")


def resolve_fix(short_table: str) -> str:
    return (f"Fix: `pssync cdc resolve {short_table} --mode force` registers the new schema all the same "
            "(consumers then read the changed type: check them first) and sends the held events; or change "
            "the registry so it accepts the schema (e.g. delete the conflicting versions of the subject) and "
            f"run `pssync cdc resolve {short_table} --mode retry`")
