import io
from decimal import Decimal

import fastavro
import pytest

from pssync.cdc.avro_schema import key_schema, value_schema
from pssync.cdc.columns import Column, Kind, TableDef, column_from_catalogue

from .ps_columns import PS_ORDERS_CATALOGUE, stock_available_table


def orders_table() -> TableDef:
    cols = tuple(column_from_catalogue(r, r["COLUMN_NAME"] == "id_order") for r in PS_ORDERS_CATALOGUE)
    return TableDef("prestashop", "ps_orders", cols, ("id_order",))


def field_type(schema: dict, name: str):
    row = schema["fields"][0]["type"][1]
    return next(f["type"] for f in row["fields"] if f["name"] == name)


def test_prestashop_types_map_to_precise_avro_types():
    schema = value_schema(orders_table(), "pssync")
    assert field_type(schema, "id_order") == ["null", "long"]          # INT UNSIGNED overflows int32
    assert field_type(schema, "total_paid_tax_incl") == [
        "null", {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 6}]
    assert field_type(schema, "conversion_rate")[1]["scale"] == 6
    assert field_type(schema, "date_add") == ["null", {"type": "long", "logicalType": "timestamp-millis"}]
    assert field_type(schema, "gift_message") == ["null", "string"]     # TEXT
    assert field_type(schema, "round_mode") == ["null", "int"]          # TINYINT


def test_enum_keeps_allowed_values_including_empty_string():
    col = column_from_catalogue({"COLUMN_NAME": "product_type", "DATA_TYPE": "enum",
                                 "COLUMN_TYPE": "enum('standard','pack','virtual','combinations','')",
                                 "NUMERIC_PRECISION": None, "NUMERIC_SCALE": None,
                                 "DATETIME_PRECISION": None}, False)
    assert col.kind is Kind.ENUM
    assert col.values == ("standard", "pack", "virtual", "combinations", "")


def test_key_schema_has_required_primary_key_fields():
    key = key_schema(stock_available_table(), "pssync")
    assert key["fields"] == [{"name": "id_stock_available", "type": "long"}]
    assert key["namespace"] == "pssync.prestashop.ps_stock_available"


def test_envelope_is_debezium_shaped_and_round_trips():
    table = orders_table()
    schema = fastavro.parse_schema(value_schema(table, "pssync"))
    names = [f["name"] for f in value_schema(table, "pssync")["fields"]]
    assert names == ["before", "after", "source", "op", "ts_ms", "transaction"]
    after = {c.name: None for c in table.columns}
    after.update(id_order=4_000_000_000, total_paid_tax_incl=Decimal("12345678901234.123456"))
    record = {"before": None, "after": after, "op": "c", "ts_ms": 1,
              "source": {"version": "v", "connector": "mysql", "name": "pssync", "ts_ms": 1,
                         "snapshot": "false", "db": "prestashop", "sequence": None,
                         "table": "ps_orders", "server_id": 1, "gtid": "0-1-5", "file": "f",
                         "pos": 4, "row": 0, "thread": None, "query": None},
              "transaction": {"id": "0-1-5", "total_order": 1, "data_collection_order": 1}}
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    back = fastavro.schemaless_reader(io.BytesIO(buf.getvalue()), schema)
    assert back["after"]["total_paid_tax_incl"] == Decimal("12345678901234.123456")
    assert back["after"]["id_order"] == 4_000_000_000


def test_schema_is_the_same_whichever_reader_described_the_table():
    a = TableDef("d", "t", (Column("id", Kind.LONG, "int(10) unsigned", primary_key=True),), ("id",))
    b = TableDef("d", "t", (Column("id", Kind.LONG, "int unsigned", primary_key=True),), ("id",))
    assert value_schema(a, "p") == value_schema(b, "p")


def test_table_without_primary_key_is_refused_with_its_name():
    table = TableDef("d", "nokey", (Column("x", Kind.INT, "int"),), ())
    with pytest.raises(ValueError, match="d.nokey has no primary key"):
        key_schema(table, "p")
