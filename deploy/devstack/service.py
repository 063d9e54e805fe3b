import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .errors import ServiceStartError
from .ports import ensure_ports_free, owner_with_marker
from .process import is_alive, read_pid, start_detached, terminate, wait_until_ready
from .settings import StackSettings

log = logging.getLogger("devstack")


@dataclass(frozen=True)
class StartResult:
    name: str
    pid: int
    address: str
    started: bool
    seconds: float


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int | None
    address: str
    healthy: bool


class Service(ABC):
    name: ClassVar[str]
    start_timeout: ClassVar[float] = 120.0
    start_attempts: ClassVar[int] = 1
    stop_timeout: ClassVar[float] = 30.0

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings

    @property
    def pidfile(self) -> Path:
        return self.settings.run_dir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.settings.logs_dir / f"{self.name}.log"

    @abstractmethod
    def marker(self) -> str: ...

    @abstractmethod
    def ports(self) -> list[tuple[int, str]]: ...

    @abstractmethod
    def address(self) -> str: ...

    @abstractmethod
    def command(self) -> list[str]: ...

    @abstractmethod
    def ready(self) -> bool: ...

    def healthy(self) -> bool:
        return self.ready()

    def prerequisites(self) -> None:
        pass

    def prepare(self) -> None:
        pass

    def after_ready(self) -> None:
        pass

    def after_stop(self) -> None:
        pass

    def data_dirs(self) -> list[Path]:
        return []

    def extra_logs(self) -> list[Path]:
        return []

    def cwd(self) -> Path | None:
        return None

    def running_pid(self) -> int | None:
        pid = read_pid(self.pidfile)
        if is_alive(pid, self.marker()):
            return pid
        orphan = owner_with_marker(self.ports(), self.marker())
        if orphan is not None:
            log.warning("%s: adopting pid %s found on its port without a pidfile", self.name, orphan)
            self.pidfile.parent.mkdir(parents=True, exist_ok=True)
            self.pidfile.write_text(f"{orphan}\n")
        return orphan

    def _wait_ready(self, pid: int) -> None:
        wait_until_ready(
            self.ready,
            name=self.name,
            timeout=self.start_timeout,
            logs=[self.logfile, *self.extra_logs()],
            pid=pid,
            marker=self.marker(),
        )

    def up(self) -> StartResult:
        began = time.monotonic()
        pid = self.running_pid()
        if pid is not None:
            self._wait_ready(pid)
            self.after_ready()
            return StartResult(self.name, pid, self.address(), False, time.monotonic() - began)
        self.pidfile.unlink(missing_ok=True)
        self.prerequisites()
        ensure_ports_free(self.name, self.ports())
        prepare_began = time.monotonic()
        self.prepare()
        prepared = time.monotonic() - prepare_began
        if prepared >= 1.0:
            log.info("%s: prepared (downloads, config, init) in %.1fs", self.name, prepared)
        for attempt in range(1, self.start_attempts + 1):
            spawned = time.monotonic()
            pid = start_detached(self.command(), pidfile=self.pidfile, logfile=self.logfile, cwd=self.cwd())
            log.info("%s: started pid %s, waiting until ready (up to %.0fs)", self.name, pid, self.start_timeout)
            try:
                self._wait_ready(pid)
                break
            except ServiceStartError as exc:
                terminate(pid, marker=self.marker(), timeout=self.stop_timeout)
                self.after_stop()
                self.pidfile.unlink(missing_ok=True)
                if attempt == self.start_attempts:
                    raise
                log.warning(
                    "%s: not ready after %.0fs (attempt %d/%d), retrying: %s",
                    self.name, time.monotonic() - spawned, attempt, self.start_attempts,
                    str(exc).splitlines()[0],
                )
        self.after_ready()
        return StartResult(self.name, pid, self.address(), True, time.monotonic() - began)

    def down(self) -> bool:
        """Returns True if a running process was stopped."""
        pid = self.running_pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        graceful = terminate(pid, marker=self.marker(), timeout=self.stop_timeout)
        if not graceful:
            log.warning("%s: did not stop within %.0fs, killed pid %s", self.name, self.stop_timeout, pid)
        self.after_stop()
        self.pidfile.unlink(missing_ok=True)
        return True

    def status(self) -> ServiceStatus:
        pid = self.running_pid()
        healthy = False
        if pid is not None:
            try:
                healthy = self.healthy()
            except Exception:
                healthy = False
        return ServiceStatus(self.name, pid, self.address(), healthy)
