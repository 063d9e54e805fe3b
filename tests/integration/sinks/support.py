"""A sink's runner in a background thread, as `pssync sink …` runs it, for the sink tests."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymysql

from pssync.settings import Settings
from pssync.sinks.cli import state_connection
from pssync.sinks.runner import Applier, SinkRunner, SinkStopped


@contextlib.contextmanager
def empty_database(stack: Any, name: str) -> Iterator[str]:
    """A scratch database for a sink's sync log, effects and offsets (the runner creates them)."""
    def run(sql: str) -> None:
        conn = pymysql.connect(**stack.mysql_params())
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()
    run(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        run(f"DROP DATABASE IF EXISTS `{name}`")


class RunnerThread:
    def __init__(self, settings: Settings, applier: Applier, connect: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.applier = applier
        self.runner = SinkRunner(settings, applier, connect or state_connection(settings))
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.runner.run(self.stop)
        except SinkStopped:
            pass
        except BaseException as exc:  # reported when the block exits
            self.error = exc

    def __enter__(self) -> "RunnerThread":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(60)
        self.applier.close()
        if self.error is not None and exc[0] is None:
            raise self.error

    def wait_for(self, outcomes: int, timeout: float = 30) -> None:
        """Until the runner has settled ``outcomes`` commands (applied, duplicate, skipped or
        dead-lettered)."""
        c = self.runner.counters
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            if c.applied + c.duplicate + c.skipped + c.dead_letter >= outcomes:
                return
            time.sleep(0.05)
        raise TimeoutError(f"sink reached {c} in {timeout}s, expected {outcomes} outcomes")
