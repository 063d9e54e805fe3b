"""A sink's runner in a background thread, as `pssync sink …` runs it, for the sink tests."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymysql

from pssync.settings import Settings
from pssync.sinks.cli import state_connection
from pssync.sinks.runner import Applier, SinkRunner, SinkStopped
from tests.integration.support import Background


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


class RunnerThread(Background):
    """A sink's runner in a background thread, as `pssync sink …` runs it."""

    def __init__(self, settings: Settings, applier: Applier, connect: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.applier = applier
        self.runner = SinkRunner(settings, applier, connect or state_connection(settings))
        super().__init__(self.runner.run, close=applier.close, expected=(SinkStopped,), join_timeout=60)

    def wait_for(self, outcomes: int, timeout: float = 30) -> None:
        """Until the runner has settled ``outcomes`` commands (applied, duplicate, skipped or
        dead-lettered)."""
        c = self.runner.counters
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if c.applied + c.duplicate + c.skipped + c.dead_letter >= outcomes:
                return
            time.sleep(0.05)
        raise TimeoutError(f"sink reached {c} in {timeout}s, expected {outcomes} outcomes")
