from .errors import PortInUseError, PrerequisiteError, ServiceStartError, StackError
from .prestashop import load_prestashop_fixtures
from .settings import StackSettings
from .stack import down, ensure_up, reset, status, stop, up

__all__ = [
    "PortInUseError",
    "PrerequisiteError",
    "ServiceStartError",
    "StackError",
    "StackSettings",
    "down",
    "ensure_up",
    "load_prestashop_fixtures",
    "reset",
    "status",
    "stop",
    "up",
]
