class StackError(Exception):
    exit_code = 1


class PrerequisiteError(StackError):
    exit_code = 2


class PortInUseError(StackError):
    exit_code = 3


class ServiceStartError(StackError):
    exit_code = 4
