"""pssync's change events against Debezium's own, recorded in ``debezium_reference/``: Debezium
3.5.0.Final's MariaDB connector through Apicurio's Avro converter on the all-types table of
``debezium_types.py`` (every type NOT NULL with a default and nullable; zero and partial dates,
DECIMAL edges, limits, a primary-key update). The live run beside Debezium is
``test_debezium_consumers.py``; this one needs no Kafka Connect, so every change to the mapping is
checked against the recorded truth in seconds.

Schemas must be equal field for field (only the topic prefix and database name differ), in every
mode Debezium offers; values record for record (op, key, before, after), with one documented
difference: a zero TIMESTAMP read from the binlog. Debezium's binlog path gives it as the epoch,
its snapshot as the column's default (NOT NULL) or null; pssync gives the snapshot's answer in both,
so that a row reads the same whichever way it arrived.
"""
from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest

from pssync.cdc import database
from pssync.cdc.avro_schema import TypeModes, key_schema, value_schema
from tests.integration.cdc import debezium_types as types
from tests.integration.support import CaptureThread, registry_client

pytestmark = pytest.mark.integration

REFERENCE = Path(__file__).parent / "debezium_reference"
MODES = {
    "": TypeModes(),
    "time.precision.mode=connect": TypeModes(time_precision_mode="connect"),
    "decimal.handling.mode=string": TypeModes(decimal_handling_mode="string"),
    "decimal.handling.mode=double": TypeModes(decimal_handling_mode="double"),
    "bigint.unsigned.handling.mode=precise": TypeModes(bigint_unsigned_handling_mode="precise"),
}
# columns whose zero TIMESTAMP Debezium's binlog path gives as the epoch (see the module docstring)
ZERO_TIMESTAMP = {"c_timestamp", "c_timestamp6", "n_timestamp", "n_timestamp6"}


def reference(variant: str, name: str) -> Any:
    return json.loads((REFERENCE / variant / name).read_text())


def renamed(schema: Any, prefix: str, db: str, variant: str = "") -> Any:
    """``schema`` with the reference run's topic prefix and database in place of ours."""
    ref_namespace = reference(variant, "value-schema.json")["namespace"]   # <prefix>.<db>.all_types
    ref_prefix, ref_db, _ = ref_namespace.split(".")
    text = json.dumps(schema).replace(f"{prefix}.{db}.", f"{ref_prefix}.{ref_db}.")
    return json.loads(text)


def create_all_types(scratch) -> None:
    conn = pymysql.connect(**scratch.stack.mysql_params(scratch.database), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(types.create_table_sql())
            types.write(cur, [types.insert_sql(types.TABLE, *row) for row in types.SNAPSHOT_ROWS])
    finally:
        conn.close()


@pytest.mark.parametrize("variant", list(MODES), ids=lambda v: v or "defaults")
def test_schemas_equal_debezium_in_every_mode(scratch, variant):
    create_all_types(scratch)
    conn = database.connect(scratch.settings().mysql)
    try:
        table = database.table_def(conn, scratch.database, types.TABLE)
    finally:
        conn.close()
    prefix = scratch.prefix
    assert renamed(key_schema(table, prefix, MODES[variant]), prefix, scratch.database, variant) == \
        reference(variant, "key-schema.json")
    ours = renamed(value_schema(table, prefix, MODES[variant]), prefix, scratch.database, variant)
    theirs = reference(variant, "value-schema.json")
    ours_fields = {f["name"]: f for f in ours["fields"]}
    for field in theirs["fields"]:                      # one column at a time: a readable failure
        if field["name"] in ("before", "after"):
            ours_columns = {c["name"]: c for c in ours_fields[field["name"]]["type"][1]["fields"]} \
                if field["name"] == "before" else None
            for column in (field["type"][1]["fields"] if ours_columns is not None else ()):
                assert ours_columns.get(column["name"]) == column, column["name"]
        else:
            assert ours_fields.get(field["name"]) == field, field["name"]
    assert ours == theirs


def plain(value: Any) -> Any:
    """Decoded Avro values in the reference's JSON form."""
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes_b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def comparable(image: dict | None, zero_timestamps: bool) -> dict | None:
    if image is None:
        return None
    return {k: v for k, v in image.items() if not (zero_timestamps and k in ZERO_TIMESTAMP)}


def test_events_equal_debezium_record_for_record(scratch):
    create_all_types(scratch)
    settings = scratch.settings(["orders"], extra_tables=[types.TABLE])
    topic = f"{scratch.prefix}.{scratch.database}.{types.TABLE}"
    with CaptureThread(settings) as cap:
        cap.wait_committed(scratch.gtid_seq())
        conn = pymysql.connect(**scratch.stack.mysql_params(scratch.database), autocommit=True)
        try:
            with conn.cursor() as cur:
                types.write(cur, types.streaming_statements())
        finally:
            conn.close()
        cap.wait_committed(scratch.gtid_seq())
    theirs = [json.loads(line) for line in (REFERENCE / "events.jsonl").read_text().splitlines()]
    ours = scratch.read_topic(topic, min_count=len(theirs))
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        where = f"{ref['value']['op'] if ref['value'] else 'tombstone'} {ref['key']}"
        assert mine.key == ref["key"], where
        if ref["value"] is None:
            assert mine.value is None, where
            continue
        value, expected = plain(mine.value), ref["value"]
        assert value["op"] == expected["op"], where
        # the binlog path's zero TIMESTAMP: see the module docstring (row 'zero' is deleted by the stream)
        zero = expected["op"] != "r" and ref["key"]["code"] == "zero"
        for side in ("before", "after"):
            assert comparable(value[side], zero) == comparable(expected[side], zero), f"{where} {side}"
        assert value["source"]["connector"] == "mariadb"
        assert value["source"]["db"] == scratch.database and value["source"]["table"] == types.TABLE
        assert {"ts_ms", "ts_us", "ts_ns"} <= value.keys() and value["ts_us"] // 1000 == value["ts_ms"]
        if expected["op"] != "r":
            assert value["source"]["ts_us"] == value["source"]["ts_ms"] * 1000
    # the headers naming the other key of a primary-key update
    moved = [e for e in ours if e.value is not None and e.key == {"id": 20, "code": "pk-moved"}]
    assert json.loads(moved[0].headers["__debezium.oldkey"]) == {"id": 10, "code": "s-ins"}
    # what was registered is what the schema test compares
    client = registry_client(scratch.registry_url)
    registered = json.loads(client.get_latest_version(f"{topic}-value").schema.schema_str)
    assert renamed(registered, scratch.prefix, scratch.database) == reference("", "value-schema.json")
