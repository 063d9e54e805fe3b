#!/usr/bin/env python
"""Produces the reference dump in this folder: Debezium's own MariaDB connector (default settings,
Apicurio's Avro converter in Confluent-compatible mode, the stack's registry) on the all-types
table of tests/integration/cdc/debezium_types.py; see README.txt.

    PSSYNC_STACK_DIR=... python tests/integration/cdc/debezium_reference/produce_reference.py OUT_DIR
"""
from __future__ import annotations

import base64
import decimal
import io
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import fastavro  # noqa: E402
import httpx  # noqa: E402
import pymysql  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402

from pssync.devstack.connect import Connect  # noqa: E402
from pssync.devstack.settings import StackSettings  # noqa: E402
from tests.integration.cdc import debezium_types as types  # noqa: E402

DATABASE = "pssync_h1_types"
VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "time.precision.mode=connect": {"time.precision.mode": "connect"},
    "decimal.handling.mode=string": {"decimal.handling.mode": "string"},
    "decimal.handling.mode=double": {"decimal.handling.mode": "double"},
    "bigint.unsigned.handling.mode=precise": {"bigint.unsigned.handling.mode": "precise"},
}


def source_config(st: StackSettings, prefix: str, server_id: int, extra: dict[str, str]) -> dict[str, str]:
    return {
        "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
        "tasks.max": "1",
        "database.hostname": "127.0.0.1",
        "database.port": str(st.mariadb_port),
        "database.user": st.mysql_user,
        "database.password": st.mysql_password,
        "database.server.id": str(server_id),
        "topic.prefix": prefix,
        "database.include.list": DATABASE,
        "schema.history.internal.kafka.bootstrap.servers": st.kafka_bootstrap,
        "schema.history.internal.kafka.topic": f"{prefix}.schema-history",
        # The dev server is shared: without these the snapshot reads every database's DDL and fails
        # when another test drops its scratch database meanwhile. No effect on the table's schemas.
        "schema.history.internal.store.only.captured.databases.ddl": "true",
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        **extra,
    }


def to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes_b64": base64.b64encode(value).decode()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return {"$float": repr(value)}
    if hasattr(value, "isoformat"):
        return {"$" + type(value).__name__: value.isoformat()}
    return value


class Schemas:
    def __init__(self, st: StackSettings) -> None:
        self.url = st.ccompat_url
        self.cache: dict[int, tuple[dict, Any]] = {}

    def get(self, schema_id: int) -> tuple[dict, Any]:
        if schema_id not in self.cache:
            resp = httpx.get(f"{self.url}/schemas/ids/{schema_id}", timeout=30)
            resp.raise_for_status()
            raw = json.loads(resp.json()["schema"])
            self.cache[schema_id] = (raw, fastavro.parse_schema(raw))
        return self.cache[schema_id]

    def decode(self, payload: bytes | None) -> tuple[int | None, Any]:
        if payload is None:
            return None, None
        assert payload[0] == 0, f"not the Confluent wire format: {payload[:8]!r}"
        schema_id = int.from_bytes(payload[1:5], "big")
        _, parsed = self.get(schema_id)
        return schema_id, fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)


def consume(st: StackSettings, topic: str, want: int, timeout: float = 180) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": st.kafka_bootstrap, "group.id": f"h1-ref-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < want and time.monotonic() < deadline:
            for msg in consumer.consume(100, 0.5):
                if msg.error() is None:
                    out.append(msg)
        # drain what else is there (tombstones following the last delete)
        for msg in consumer.consume(100, 3.0):
            if msg.error() is None:
                out.append(msg)
    finally:
        consumer.close()
    if len(out) < want:
        raise SystemExit(f"{topic}: {len(out)} records after {timeout}s, expected {want}")
    return out


def setup_database(st: StackSettings) -> None:
    conn = pymysql.connect(**st.mysql_params(), autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        cur.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        cur.execute(f"USE `{DATABASE}`")
        cur.execute(types.create_table_sql())
        types.write(cur, [types.insert_sql(types.TABLE, *row) for row in types.SNAPSHOT_ROWS])
    conn.close()


def stream(st: StackSettings) -> None:
    conn = pymysql.connect(**st.mysql_params(DATABASE), autocommit=True)
    with conn.cursor() as cur:
        types.write(cur, types.streaming_statements())
    conn.close()


def subject_schema(st: StackSettings, subject: str) -> dict[str, Any]:
    resp = httpx.get(f"{st.ccompat_url}/subjects/{subject}/versions/latest", timeout=30)
    resp.raise_for_status()
    body = resp.json()
    return {"subject": subject, "id": body["id"], "version": body["version"], "schema": json.loads(body["schema"])}


def run_variant(st: StackSettings, worker: Connect, out: Path, name: str, extra: dict[str, str],
                prefix: str, server_id: int, with_stream: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    topic = f"{prefix}.{DATABASE}.{types.TABLE}"
    config = source_config(st, prefix, server_id, extra)
    connector = f"{prefix}-source"
    worker.delete_connector(connector)
    worker.create_connector(connector, config)
    try:
        consume(st, topic, len(types.SNAPSHOT_ROWS))
        if with_stream:
            stream(st)
            # 2 inserts, 2 updates, PK update (delete + tombstone + create), 2 deletes (+ 2 tombstones)
            expected = len(types.SNAPSHOT_ROWS) + 2 + 2 + 3 + 4
            records = consume(st, topic, expected)
        else:
            records = consume(st, topic, len(types.SNAPSHOT_ROWS))
    finally:
        worker.delete_connector(connector)
    (out / "connector-config.json").write_text(json.dumps(config, indent=2) + "\n")
    for side in ("key", "value"):
        schema = subject_schema(st, f"{topic}-{side}")
        (out / f"{side}-schema.json").write_text(json.dumps(schema["schema"], indent=2, ensure_ascii=False) + "\n")
        (out / f"{side}-subject.json").write_text(json.dumps({k: v for k, v in schema.items() if k != "schema"}) + "\n")
    if not with_stream:
        return
    schemas = Schemas(st)
    with open(out / "events.jsonl", "w") as fh:
        for msg in records:
            key_id, key = schemas.decode(msg.key())
            value_id, value = schemas.decode(msg.value())
            fh.write(json.dumps(to_json({
                "topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset(),
                "headers": [[k, v.decode("utf-8", "replace") if v is not None else None]
                            for k, v in (msg.headers() or [])],
                "key_schema_id": key_id, "key": key, "value_schema_id": value_id, "value": value,
            }), ensure_ascii=False) + "\n")
    # Debezium's schema-change topic (the prefix itself), for reference
    changes = consume(st, prefix, 1)
    with open(out / "schema-change-events.jsonl", "w") as fh:
        for msg in changes:
            key_id, key = schemas.decode(msg.key())
            value_id, value = schemas.decode(msg.value())
            fh.write(json.dumps(to_json({"key_schema_id": key_id, "key": key, "value_schema_id": value_id,
                                         "value": value}), ensure_ascii=False) + "\n")
    for side in ("key", "value"):
        schema = subject_schema(st, f"{prefix}-{side}")
        (out / f"schema-change-{side}-schema.json").write_text(json.dumps(schema["schema"], indent=2) + "\n")


def main() -> None:
    out_root = Path(sys.argv[1])
    only = sys.argv[2:] or list(VARIANTS)
    st = StackSettings()
    worker = Connect(st)
    worker.up()
    (out_root / "worker.properties").write_text(
        (st.dir / "connect" / "worker.properties").read_text())
    tag = uuid.uuid4().hex[:6]
    for index, name in enumerate(VARIANTS):
        if name not in only:
            continue
        setup_database(st)
        prefix = f"h1ref{index}{tag}"
        sub = out_root if name == "default" else out_root / name
        run_variant(st, worker, sub, name, VARIANTS[name], prefix, 184100 + index, with_stream=name == "default")
        print(f"{name}: done ({prefix})", flush=True)


if __name__ == "__main__":
    main()
