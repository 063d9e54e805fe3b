import fcntl
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .connect import Connect
from .kafka import Kafka
from .mariadb import MariaDB
from .ports import ensure_ports_free
from .registry import Registry
from .service import Service, ServiceStatus, StartResult
from .settings import StackSettings
from .tryton import Tryton

log = logging.getLogger("devstack")


def services(settings: StackSettings) -> list[Service]:
    # Order matters: the registry keeps its data in Kafka, Tryton's seed reads MariaDB.
    return [MariaDB(settings), Kafka(settings), Registry(settings), Tryton(settings)]


@contextmanager
def _locked(settings: StackSettings) -> Iterator[None]:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.run_dir / "stack.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def up(settings: StackSettings | None = None) -> list[StartResult]:
    settings = settings or StackSettings()
    results = []
    with _locked(settings):
        for service in services(settings):
            if service.running_pid() is None:
                ensure_ports_free(service.name, service.ports())
        for service in services(settings):
            result = service.up()
            verb = f"started in {result.seconds:.1f}s" if result.started else "already running"
            log.info("%s: %s (pid %s, %s)", result.name, verb, result.pid, result.address)
            results.append(result)
    return results


def down(settings: StackSettings | None = None) -> list[str]:
    settings = settings or StackSettings()
    stopped = []
    with _locked(settings):
        # The Kafka Connect worker is started on demand (tests), not by `up`; stopped before Kafka.
        for service in [Connect(settings), *reversed(services(settings))]:
            if service.down():
                log.info("%s: stopped", service.name)
                stopped.append(service.name)
            else:
                log.info("%s: not running", service.name)
    return stopped


def status(settings: StackSettings | None = None) -> list[ServiceStatus]:
    settings = settings or StackSettings()
    return [service.status() for service in services(settings)]


def reset(settings: StackSettings | None = None) -> list[Path]:
    settings = settings or StackSettings()
    down(settings)
    removed = []
    with _locked(settings):
        for service in services(settings):
            for path in service.data_dirs():
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
                else:
                    continue
                removed.append(path)
    return removed


def ensure_up(settings: StackSettings | None = None) -> StackSettings:
    settings = settings or StackSettings()
    up(settings)
    return settings


def stop(settings: StackSettings | None = None) -> None:
    down(settings or StackSettings())
