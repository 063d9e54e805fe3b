"""Consumers built for Debezium read pssync's change topics unchanged (issue 13).

The consumer is Debezium's own JDBC sink connector (Kafka Connect, Apicurio's Avro converter reading
the Confluent wire format) materialising a change topic into MariaDB tables created like the source.

- control: Debezium's MariaDB connector produces the topic: the sink tables equal the source tables
  through a snapshot, inserts, updates, a primary-key update and deletes (zero dates, DECIMAL edges);
- the same with pssync's capture producing the topic;
BIT(10) columns are left out of what the sink writes and compares: this sink cannot write them
with Apicurio's converter (debezium_types.SINK_UNWRITABLE), and TIME values within a day and
BIGINT UNSIGNED values up to 2^63-1 replace the extremes (debezium_types.SINK_VALUES): Debezium's
own pipeline cannot carry those to this sink.
- pssync's registered key/value schemas for the all-types table equal Debezium's.

The Connect worker (pssync.devstack.connect) resolves its jars from Maven Central on first use.
"""
from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pymysql
import pytest

from pssync import devstack
from pssync.devstack.connect import Connect
from tests.integration.cdc import debezium_types as types
from tests.integration.support import CaptureThread, Scratch

pytestmark = pytest.mark.integration

TABLE = "ps_all_types"  # pssync captures ps_-prefixed tables: the same name on both sides
DATE_TYPES = ("DATE", "DATETIME", "TIMESTAMP")
BINARY_TYPES = ("BLOB", "BINARY", "VARBINARY", "BIT")
ZERO_DATE = re.compile(r"^(0000-|\d{4}-00-|\d{4}-\d\d-00)")
DEADLINE_S = 240  # bounds a hang only: every wait below polls a real condition


@pytest.fixture(scope="module")
def connect(stack: devstack.StackSettings) -> Iterator[Connect]:
    worker = Connect(stack)
    started = worker.up().started
    yield worker
    if started:
        worker.down()


class Databases:
    """Scratch databases (dropped afterwards) on the stack's MariaDB."""

    def __init__(self, stack: devstack.StackSettings) -> None:
        self.stack = stack
        self.names: list[str] = []

    def create(self, name: str) -> str:
        self.names.append(name)
        self.run(None, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        return name

    def run(self, database: str | None, *statements: str) -> list[tuple]:
        conn = pymysql.connect(**self.stack.mysql_params(database), autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET SESSION sql_mode = '{types.SESSION_SQL_MODE}'")
                rows: list[tuple] = []
                for statement in statements:
                    cur.execute(statement)
                    rows = list(cur.fetchall())
                return rows
        finally:
            conn.close()

    def drop_all(self) -> None:
        for name in self.names:
            self.run(None, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture()
def dbs(stack: devstack.StackSettings) -> Iterator[Databases]:
    databases = Databases(stack)
    yield databases
    databases.drop_all()


@pytest.fixture()
def connectors(connect: Connect) -> Iterator[Callable[[str, dict[str, str]], None]]:
    created: list[str] = []

    def create(name: str, config: dict[str, str]) -> None:
        created.append(name)
        connect.create_connector(name, config)

    yield create
    for name in created:
        connect.delete_connector(name)


def make_source(dbs: Databases, name: str) -> str:
    database = dbs.create(name)
    dbs.run(database, types.create_table_sql(TABLE, for_sink=True),
            *[types.insert_sql(TABLE, *row) for row in types.sink_snapshot_rows()])
    return database


def make_sink(dbs: Databases, name: str, source: str) -> str:
    database = dbs.create(name)
    dbs.run(database, f"CREATE TABLE `{TABLE}` LIKE `{source}`.`{TABLE}`")
    return database


def column_types(dbs: Databases, database: str) -> dict[str, str]:
    rows = dbs.run(None, "SELECT COLUMN_NAME, UPPER(COLUMN_TYPE) FROM information_schema.COLUMNS "
                         f"WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = '{TABLE}' ORDER BY ORDINAL_POSITION")
    return dict(rows)


def table_rows(dbs: Databases, database: str) -> list[dict[str, Any]]:
    """The table's rows as text (binary columns in hex), ordered by primary key."""
    cols = {c: t for c, t in column_types(dbs, database).items() if c not in types.SINK_UNWRITABLE}
    exprs = [f"HEX(`{c}`)" if t.startswith(BINARY_TYPES) else f"CAST(`{c}` AS CHAR)" for c, t in cols.items()]
    rows = dbs.run(database, f"SELECT {', '.join(exprs)} FROM `{TABLE}` ORDER BY id, code")
    return [dict(zip(cols, row)) for row in rows]


def expected_rows(dbs: Databases, source: str) -> list[dict[str, Any]]:
    """The source rows as Debezium delivers them: a zero or partial date ('0000-00-00',
    '2024-00-00') is not a date, so the NOT NULL column carries its DEFAULT and the nullable one
    NULL (Debezium's documented conversion, seen in debezium_reference/events.jsonl)."""
    cols = {c: t for c, t in column_types(dbs, source).items() if c not in types.SINK_UNWRITABLE}
    date_cols = [c for c, t in cols.items() if t.startswith(DATE_TYPES)]
    defaults = dict(zip(date_cols, dbs.run(source, "SELECT " + ", ".join(
        f"CAST(DEFAULT(`{c}`) AS CHAR)" for c in date_cols) + f" FROM `{TABLE}` LIMIT 1")[0]))
    rows = table_rows(dbs, source)
    for row in rows:
        for col in date_cols:
            if row[col] is not None and ZERO_DATE.match(row[col]):
                row[col] = defaults[col] if col.startswith("c_") else None
    return rows


def wait_equal(connect: Connect, sink_connector: str, want: Callable[[], list], got: Callable[[], list]) -> None:
    """Polls until the sink's rows equal the expected ones (or the sink connector failed, or the
    deadline that bounds a hang passed), then asserts equality with a readable diff."""
    deadline = time.monotonic() + DEADLINE_S
    expected, actual = want(), got()
    while actual != expected and time.monotonic() < deadline:
        failure = connect.failure(sink_connector)
        if failure:
            pytest.fail(f"JDBC sink connector {sink_connector} failed:\n{failure[:3000]}")
        time.sleep(0.5)
        expected, actual = want(), got()
    if actual != expected:
        status = connect.state(sink_connector)
        pytest.fail("sink rows differ from the source:\n" + rows_difference(expected, actual)
                    + f"\nsink connector: {status}")


def rows_difference(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """Rows missing or extra by primary key, and differing columns of the others."""
    want = {(r["id"], r["code"]): r for r in expected}
    got = {(r["id"], r["code"]): r for r in actual}
    lines = [f"missing in the sink: {key}" for key in want if key not in got]
    lines += [f"extra in the sink: {key}" for key in got if key not in want]
    for key in want.keys() & got.keys():
        for col, value in want[key].items():
            if got[key].get(col) != value:
                lines.append(f"{key} {col}: source {value!r:.80}, sink {got[key].get(col)!r:.80}")
    return "\n".join(sorted(lines))


def pssync_capture(stack: devstack.StackSettings, database: str, tag: str) -> tuple[CaptureThread, str]:
    scratch = Scratch(stack, database, tag, registry_url=stack.ccompat_url)
    settings = scratch.settings(tables=["all_types"])
    return CaptureThread(settings), scratch.topic("all_types")


def run_streaming(dbs: Databases, source: str) -> None:
    dbs.run(source, *types.streaming_statements(TABLE, for_sink=True))


def test_debezium_source_to_jdbc_sink_control(stack, connect, dbs, connectors):
    """CONTROL: Debezium's own connector -> Avro (Apicurio) -> Debezium's JDBC sink."""
    tag = uuid.uuid4().hex[:8]
    source = make_source(dbs, f"pssync_dbzsrc_{tag}")
    sink = make_sink(dbs, f"pssync_dbzsink_{tag}", source)
    prefix = f"dbz{tag}"
    connectors(f"{prefix}-source", types.mariadb_source_config(
        stack, prefix=prefix, database=source, server_id=random.randint(100_000, 2**31 - 1)))
    connectors(f"{prefix}-sink", types.jdbc_sink_config(
        stack, topic=f"{prefix}.{source}.{TABLE}", database=sink, table=TABLE))
    wait_equal(connect, f"{prefix}-sink", lambda: expected_rows(dbs, source), lambda: table_rows(dbs, sink))
    run_streaming(dbs, source)
    wait_equal(connect, f"{prefix}-sink", lambda: expected_rows(dbs, source), lambda: table_rows(dbs, sink))


def test_pssync_topics_to_debezium_jdbc_sink(stack, connect, dbs, connectors):
    """pssync's capture produces the topic; Debezium's JDBC sink materialises it unchanged."""
    tag = uuid.uuid4().hex[:8]
    source = make_source(dbs, f"pssync_pssrc_{tag}")
    sink = make_sink(dbs, f"pssync_pssink_{tag}", source)
    capture, topic = pssync_capture(stack, source, tag)
    with capture:
        connectors(f"ps{tag}-sink", types.jdbc_sink_config(stack, topic=topic, database=sink, table=TABLE))
        wait_equal(connect, f"ps{tag}-sink", lambda: expected_rows(dbs, source), lambda: table_rows(dbs, sink))
        run_streaming(dbs, source)
        wait_equal(connect, f"ps{tag}-sink", lambda: expected_rows(dbs, source), lambda: table_rows(dbs, sink))


def registered(stack: devstack.StackSettings, subject: str) -> dict[str, Any] | None:
    resp = httpx.get(f"{stack.ccompat_url}/subjects/{subject}/versions/latest", timeout=30)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return json.loads(resp.json()["schema"])


def wait_registered(stack: devstack.StackSettings, subject: str, check: Callable[[], None]) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while (schema := registered(stack, subject)) is None:
        check()
        if time.monotonic() > deadline:
            pytest.fail(f"{subject} was not registered")
        time.sleep(0.5)
    return schema


def normalised(schema: Any, topic_prefix: str) -> Any:
    """The schema with the topic prefix (in namespaces, names, connect.name) replaced by PREFIX."""
    text = json.dumps(schema, ensure_ascii=False)
    return json.loads(text.replace(f'"{topic_prefix}.', '"PREFIX.'))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:300] + "..."


def schema_differences(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """Every difference between two Avro schemas (JSON), by path: record fields matched by name,
    unions and other lists by position."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out: list[str] = []
        for key in sorted(set(theirs) | set(ours), key=lambda k: (k == "fields", k)):
            where = f"{path}.{key}" if path else key
            if key not in ours:
                out.append(f"{where}: pssync lacks it (debezium: {_short(theirs[key])})")
            elif key not in theirs:
                out.append(f"{where}: only pssync has it ({_short(ours[key])})")
            elif key == "fields" and isinstance(theirs[key], list) and isinstance(ours[key], list):
                names_t = [f.get("name") for f in theirs[key]]
                names_o = [f.get("name") for f in ours[key]]
                if names_t != names_o:
                    out.append(f"{where}: field names/order differ: debezium {names_t}, pssync {names_o}")
                by_name = {f.get("name"): f for f in ours[key]}
                for field in theirs[key]:
                    if field.get("name") in by_name:
                        out += schema_differences(field, by_name[field["name"]], f"{path}<{field['name']}>")
            else:
                out += schema_differences(theirs[key], ours[key], where)
        return out
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        return [d for i, (a, b) in enumerate(zip(theirs, ours)) for d in schema_differences(a, b, f"{path}[{i}]")]
    return [] if theirs == ours else [f"{path}: debezium {_short(theirs)}, pssync {_short(ours)}"]


def test_pssync_schemas_equal_debeziums(stack, connect, dbs, connectors):
    """The key and value schemas pssync registers for the all-types table are Debezium's, but for
    the topic prefix in namespaces and names."""
    tag = uuid.uuid4().hex[:8]
    source = make_source(dbs, f"pssync_schsrc_{tag}")
    prefix = f"dbz{tag}"
    connectors(f"{prefix}-source", types.mariadb_source_config(
        stack, prefix=prefix, database=source, server_id=random.randint(100_000, 2**31 - 1)))
    capture, topic = pssync_capture(stack, source, tag)
    ps_prefix = topic.split(".", 1)[0]
    diffs = []
    with capture:
        for side in ("key", "value"):
            theirs = wait_registered(stack, f"{prefix}.{source}.{TABLE}-{side}",
                                     lambda: connect.failure(f"{prefix}-source") and pytest.fail("source failed"))
            ours = wait_registered(stack, f"{topic}-{side}", capture.check)
            diffs += [f"{side}: {d}" for d in schema_differences(normalised(theirs, prefix),
                                                                 normalised(ours, ps_prefix))]
    assert not diffs, f"{len(diffs)} differences:\n" + "\n".join(diffs)
