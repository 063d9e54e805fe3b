import os
import shlex
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from .errors import ServiceStartError

PROC = Path("/proc")


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _reap(pid: int) -> None:
    # A child we spawned ourselves stays a zombie until waited for.
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def is_alive(pid: int | None, marker: str | None = None) -> bool:
    if not pid or pid <= 0:
        return False
    _reap(pid)
    if not PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in ("Z", "X"):
        return False
    # a process caught in execve (just spawned: vfork lets the parent go on before the new image is
    # in place) has an empty cmdline for a moment: alive, not "some other process"
    command = cmdline(pid)
    return marker is None or not command or marker in command


def start_detached(
    argv: Sequence[str],
    *,
    pidfile: Path,
    logfile: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    with open(logfile, "ab") as log:
        stamp = datetime.now().isoformat(timespec="seconds")
        log.write(f"\n--- {stamp} devstack starting: {shlex.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=full_env,
            start_new_session=True,
            close_fds=True,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def terminate(pid: int, *, marker: str | None = None, timeout: float = 30.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`. Returns True if it stopped gracefully."""
    if not is_alive(pid, marker):
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_for(lambda: not is_alive(pid), timeout):
        return True
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: not is_alive(pid), 10.0)
    return False


def tail(path: Path, lines: int = 25) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 256 * 1024))
            last = deque(fh.read().decode(errors="replace").splitlines(), maxlen=lines)
    except OSError:
        return f"(no log at {path})"
    return "\n".join(last)


def _log_excerpt(logs: Sequence[Path], lines: int) -> str:
    parts = []
    for log in logs:
        if log.exists():
            parts.append(f"--- last lines of {log} ---\n{tail(log, lines)}")
    return "\n".join(parts)


def wait_until_ready(
    check: Callable[[], bool],
    *,
    name: str,
    timeout: float,
    logs: Sequence[Path],
    pid: int | None = None,
    marker: str | None = None,
    interval: float = 0.5,
    tail_lines: int = 25,
) -> float:
    """Poll `check` until it returns True; returns the seconds waited."""
    start = time.monotonic()
    deadline = start + timeout
    where = " and ".join(str(p) for p in logs)
    while True:
        try:
            if check():
                return time.monotonic() - start
        except Exception:
            pass
        if pid is not None and not is_alive(pid, marker):
            raise ServiceStartError(
                f"{name} (pid {pid}) exited during startup; see {where}\n"
                + _log_excerpt(logs, tail_lines)
            )
        if time.monotonic() >= deadline:
            raise ServiceStartError(
                f"{name} was not ready after {timeout:.0f}s; see {where}\n"
                + _log_excerpt(logs, tail_lines)
            )
        time.sleep(interval)
