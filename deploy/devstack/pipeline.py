"""The service's own processes on one machine: capture, ERP capture, processors and both sinks.

Each runs as ``pssync ...`` in the background with a pidfile under ``<stack dir>/run`` and a log
under ``<stack dir>/logs``; ``pssync services up|down|status|kill`` drives them. On a cluster
the same commands run under a supervisor (systemd, Kubernetes), one process per line below.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pssync.devstack.settings import REPO_ROOT, StackSettings

SERVICES: dict[str, list[str]] = {
    "capture": ["cdc", "run", "--quiet"],
    "erp-capture": ["erp", "poll"],
    "processors": ["streams", "worker", "--loglevel", "warn"],
    "sink-erp": ["sink", "erp"],
    "sink-shop": ["sink", "shop"],
}
DEFAULT_CONFIG = REPO_ROOT / "deploy" / "pipeline.yaml"


@dataclass(frozen=True)
class State:
    name: str
    pid: int | None
    running: bool
    log: Path


def _pidfile(stack: StackSettings, name: str) -> Path:
    return stack.run_dir / f"{name}.pid"


def _log(stack: StackSettings, name: str) -> Path:
    return stack.logs_dir / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:   # a zombie child of ours is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def state(stack: StackSettings, name: str) -> State:
    path = _pidfile(stack, name)
    pid = int(path.read_text()) if path.exists() and path.read_text().strip().isdigit() else None
    return State(name, pid, pid is not None and _alive(pid), _log(stack, name))


def _names(names: list[str] | None) -> list[str]:
    unknown = [n for n in names or [] if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    return list(names) if names else list(SERVICES)


def start(stack: StackSettings, names: list[str] | None = None, config: Path = DEFAULT_CONFIG) -> list[State]:
    stack.run_dir.mkdir(parents=True, exist_ok=True)
    stack.logs_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PSSYNC_CONFIG": str(config)}
    out = []
    for name in _names(names):
        current = state(stack, name)
        if current.running:
            out.append(current)
            continue
        with open(current.log, "a") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} start {name} ====\n")
            log.flush()
            proc = subprocess.Popen([sys.executable, "-m", "pssync", *SERVICES[name], "--config", str(config)],
                                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                                    start_new_session=True)
        _pidfile(stack, name).write_text(str(proc.pid))
        out.append(State(name, proc.pid, True, current.log))
    return out


def stop(stack: StackSettings, names: list[str] | None = None, timeout: float = 30,
         sig: int = signal.SIGTERM) -> list[State]:
    targets = [state(stack, n) for n in _names(names)]
    for s in targets:
        if s.running and s.pid:
            os.kill(s.pid, sig)
    deadline = time.monotonic() + timeout
    for s in targets:
        while s.running and s.pid and _alive(s.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if s.pid and _alive(s.pid):
            os.kill(s.pid, signal.SIGKILL)   # Faust's graceful stop can hang; every service survives this
        _pidfile(stack, s.name).unlink(missing_ok=True)
    return [state(stack, n) for n in _names(names)]


def kill(stack: StackSettings, name: str) -> None:
    """SIGKILL, as a crash would (crash tests)."""
    s = state(stack, name)
    if s.running and s.pid:
        os.kill(s.pid, signal.SIGKILL)
        while _alive(s.pid):
            time.sleep(0.05)
