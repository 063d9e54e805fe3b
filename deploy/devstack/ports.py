import socket

from .errors import PortInUseError
from .process import PROC, cmdline

_LISTEN = "0A"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def port_owner(port: int) -> int | None:
    """Pid of the process listening on `port` (Linux /proc; None if unknown)."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not inodes:
        return None
    for proc_dir in PROC.glob("[0-9]*"):
        try:
            for fd in (proc_dir / "fd").iterdir():
                try:
                    if fd.readlink().as_posix() in inodes:
                        return int(proc_dir.name)
                except OSError:
                    continue
        except OSError:
            continue
    return None


def describe_owner(port: int) -> str:
    pid = port_owner(port)
    if pid is None:
        return "an unknown process"
    cmd = cmdline(pid)
    if len(cmd) > 160:
        cmd = cmd[:157] + "..."
    return f"pid {pid} ({cmd})"


def ensure_ports_free(service: str, ports: list[tuple[int, str]]) -> None:
    """`ports` holds (port, settings field); raises PortInUseError naming the port and service."""
    for port, field in ports:
        if port_is_free(port):
            continue
        env = f"PSSYNC_STACK_{field.upper()}"
        raise PortInUseError(
            f"port {port} wanted by {service} ({field}) is already in use by {describe_owner(port)}. "
            f"Stop that process or pick another port with {env}=<port>."
        )


def owner_with_marker(ports: list[tuple[int, str]], marker: str) -> int | None:
    for port, _ in ports:
        pid = port_owner(port)
        if pid is not None and marker in cmdline(pid):
            return pid
    return None

