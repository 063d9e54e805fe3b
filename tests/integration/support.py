from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pymysql
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from pssync import devstack
from pssync.bus.registry import Registry, registry_client
from pssync.cdc.capture import Capture
from pssync.schemas.codec import Codec, RegistryStore
from pssync.settings import RegistrySettings, Settings


@dataclass
class Event:
    topic: str
    partition: int
    offset: int
    key: dict[str, Any]
    value: dict[str, Any] | None   # None: tombstone
    headers: dict[str, bytes] = field(default_factory=dict)


class Background:
    """Runs ``target(stop)`` in a daemon thread for the length of a ``with`` block, as the service
    would run in its own process: the block's exit sets ``stop``, waits for the thread, calls
    ``close`` and re-raises whatever the target raised (``expected`` exceptions excepted)."""

    def __init__(self, target: Callable[[threading.Event], Any], close: Callable[[], Any] | None = None,
                 expected: tuple[type[BaseException], ...] = (), join_timeout: float = 30) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._target, self._close, self._expected, self._join_timeout = target, close, expected, join_timeout
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._target(self.stop)
        except self._expected:
            pass
        except BaseException as exc:  # reported when the block exits, or by check()
            self.error = exc

    def check(self) -> None:
        """Raise the target's error now, if it failed."""
        if self.error is not None:
            raise self.error

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.join(raise_error=exc[0] is None)

    def join(self, raise_error: bool = True) -> None:
        self.stop.set()
        self.thread.join(self._join_timeout)
        if self._close is not None:
            self._close()
        if raise_error:
            self.check()


class CaptureThread(Background):
    def __init__(self, settings: Settings) -> None:
        self.capture = Capture(settings)
        super().__init__(self.capture.run, close=self.capture.close)

    def wait_committed(self, gtid_seq_at_least: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            off = self.capture.committed
            if off is not None and off.gtid and max(
                    int(p.rsplit("-", 1)[1]) for p in off.gtid.split(",")) >= gtid_seq_at_least:
                return
            time.sleep(0.05)
        raise TimeoutError(f"capture did not commit GTID seq {gtid_seq_at_least} in {timeout}s "
                           f"(committed: {self.capture.committed})")


def read_settled(bootstrap: str, topics: list[str], *, min_count: int = 0, timeout: float = 20.0,
                 settle: float = 0.0) -> list[Message]:
    """Every committed record of the topics (all partitions; a missing topic reads empty), read
    until each partition is at its end and at least ``min_count`` records are there, and then
    nothing new came for ``settle`` seconds. Gives up after ``timeout`` with what it has."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-reader-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    records: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while True:   # a topic may not exist yet: when records are expected, wait for it
            metadata = consumer.list_topics(timeout=10).topics
            missing = [t for t in topics if t not in metadata or metadata[t].error is not None]
            if not missing or min_count == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        partitions = [TopicPartition(t, p, 0) for t in topics if t not in missing
                      for p in sorted(metadata[t].partitions or {0: None})]
        if not partitions:
            return records
        consumer.assign(partitions)
        at_end: set[tuple[str, int]] = set()
        everything = {(tp.topic, tp.partition) for tp in partitions}
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            msg = consumer.poll(0.1)
            if msg is None:
                if at_end >= everything and len(records) >= min_count and time.monotonic() - last_new >= settle:
                    break
                continue
            if msg.error():
                code = msg.error().code()
                if code == KafkaError._PARTITION_EOF:
                    at_end.add((msg.topic(), msg.partition()))
                    continue
                if code == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue
                raise RuntimeError(str(msg.error()))
            at_end.discard((msg.topic(), msg.partition()))
            records.append(msg)
            last_new = time.monotonic()
    finally:
        consumer.close()
    return records


class Scratch:
    def __init__(self, stack: devstack.StackSettings, database: str, tag: str, registry_url: str) -> None:
        self.stack = stack
        self.database = database
        self.tag = tag
        self.prefix = f"t{tag}"
        self.registry_url = registry_url
        self._conn: pymysql.connections.Connection | None = None

    def settings(self, tables: list[str] | None = None, **capture: Any) -> Settings:
        cap: dict[str, Any] = {"name": f"test-{self.tag}", "topic_prefix": self.prefix,
                               "offsets_topic": f"{self.prefix}.offsets", "batch_max_ms": 50}
        if tables:
            cap["tables"] = tables
        cap.update(capture)
        return Settings(
            mysql={"host": "127.0.0.1", "port": self.stack.mariadb_port, "user": self.stack.mysql_user,
                   "password": self.stack.mysql_password, "database": self.database,
                   "table_prefix": self.stack.table_prefix, "server_id": random.randint(10_000, 2**31)},
            kafka={"bootstrap_servers": self.stack.kafka_bootstrap},
            registry={"url": self.registry_url},
            capture=cap,
        )

    def topic(self, table: str) -> str:
        return f"{self.prefix}.{self.database}.{self.stack.table_prefix}{table}"

    @property
    def db(self) -> pymysql.connections.Connection:
        if self._conn is None:
            self._conn = pymysql.connect(**self.stack.mysql_params(self.database), autocommit=True,
                                         cursorclass=pymysql.cursors.DictCursor)
            with self._conn.cursor() as cur:
                cur.execute("SET sql_mode=''")
        return self._conn

    def sql(self, *statements: str, args: Any = None) -> list[dict[str, Any]]:
        """Run statements in one transaction; returns the last result set."""
        rows: list[dict[str, Any]] = []
        with self.db.cursor() as cur:
            cur.execute("BEGIN")
            for statement in statements:
                cur.execute(statement, args)
                rows = list(cur.fetchall())
            cur.execute("COMMIT")
        return rows

    def gtid_seq(self) -> int:
        row = self.sql("SELECT @@gtid_binlog_pos AS g")[0]
        return max(int(p.rsplit("-", 1)[1]) for p in row["g"].split(","))

    def read_topic(self, topic: str, *, min_count: int = 0, timeout: float = 20.0,
                   settle: float = 0.5) -> list[Event]:
        return read_topics(self, [topic], min_count=min_count, timeout=timeout, settle=settle)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def read_topics(scratch: Scratch, topics: list[str], *, min_count: int = 0, timeout: float = 20.0,
                settle: float = 0.5) -> list[Event]:
    """All read_committed events of the topics (:func:`read_settled`), decoded with confluent-kafka's
    AvroDeserializer against the registry."""
    deser = AvroDeserializer(registry_client(scratch.registry_url))
    events: list[Event] = []
    for msg in read_settled(scratch.stack.kafka_bootstrap, topics, min_count=min_count, timeout=timeout,
                            settle=settle):
        key = deser(msg.key(), SerializationContext(msg.topic(), MessageField.KEY))
        value = deser(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE)) \
            if msg.value() is not None else None
        events.append(Event(msg.topic(), msg.partition(), msg.offset(), key, value,
                            {k: v for k, v in msg.headers() or ()}))
    return events


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pssync", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


class CaptureProcess:
    """`pssync cdc run` in a child process, as an operator would run it."""

    def __init__(self, settings: Settings, workdir: Any) -> None:
        import yaml

        self.config = workdir / "capture.yaml"
        self.config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
        self.log = workdir / "capture.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, *extra: str) -> None:
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n==== start {self.starts} ====\n")
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pssync", "cdc", "run", "--quiet", "--config", str(self.config), *extra],
                stdout=log, stderr=subprocess.STDOUT, env=env)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(30)

    def wait_running(self, timeout: float = 60) -> None:
        """Until the process started last says it is running (its SIGTERM handler is in place from
        then on: a SIGTERM before that, while Python still imports, ends it like any process)."""
        marker = f"==== start {self.starts} ===="
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if "running; Ctrl-C to stop" in text[text.rfind(marker):]:
                return
            if not self.alive():
                raise RuntimeError(f"the capture exited with {self.proc.returncode}: {text[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"the capture did not report running within {timeout}s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def wait_offset(settings: Settings, gtid_seq: int, timeout: float = 60) -> None:
    from pssync.cdc.offsets import OffsetStore

    store = OffsetStore(settings.kafka, settings.capture.offsets_topic, settings.capture.name)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = store.load(timeout=10)
        if last and max(int(p.rsplit("-", 1)[1]) for p in last.gtid.split(",")) >= gtid_seq:
            return
        time.sleep(0.5)
    raise TimeoutError(f"committed offset did not reach GTID seq {gtid_seq}: {last}")


@functools.cache
def contracts() -> Codec:
    """The contracts' codec on the stack's registry, as the stages use it (schemas registered under
    <topic>-value, records decoded with the schema they were written with)."""
    url = os.environ.get("PSSYNC_TEST_REGISTRY_URL") or devstack.StackSettings().ccompat_url
    return Codec(RegistryStore(Registry(RegistrySettings(url=url))))


def readable(value: bytes) -> dict[str, Any]:
    """A pssync record as the data team reads it (decoded with the schema it was written with); a
    processor's dead letter with the JSON of its record merged in (``id_order``, ...)."""
    record = contracts().decode_record(value, "test")
    if isinstance(record, dict) and set(record) == {"source", "reason", "record"}:
        return {**json.loads(record["record"]), "source": record["source"], "reason": record["reason"]}
    return record


def single_error_line(run: subprocess.CompletedProcess) -> str:
    """The one line a ``pssync`` command that refused its configuration printed: non-zero exit,
    nothing on stdout, no traceback, exactly one line on stderr."""
    assert run.returncode != 0, run
    assert run.stdout == "", run.stdout
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def cli_env() -> dict[str, str]:
    """The environment of this process without PSSYNC_* settings (a test's config file says it all)."""
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_") or k.startswith("PSSYNC_STACK_")}
