import io
from decimal import Decimal

import fastavro
import pytest

from pssync.cdc.avro_schema import TypeModes, key_schema, value_schema
from pssync.cdc.columns import Column, Kind, TableDef, column_from_catalogue

from .ps_columns import PS_ORDERS_CATALOGUE, stock_available_table


def orders_table() -> TableDef:
    cols = tuple(column_from_catalogue(r, r["COLUMN_NAME"] == "id_order") for r in PS_ORDERS_CATALOGUE)
    return TableDef("prestashop", "ps_orders", cols, ("id_order",))


def field_type(schema: dict, name: str):
    row = schema["fields"][0]["type"][1]
    return next(f["type"] for f in row["fields"] if f["name"] == name)


def test_prestashop_types_map_to_debezium_connect_types():
    schema = value_schema(orders_table(), "pssync")
    assert field_type(schema, "id_order") == ["null", "long"]          # INT UNSIGNED overflows int32
    assert field_type(schema, "total_paid_tax_incl") == ["null", {
        "type": "bytes", "connect.version": 1,
        "connect.parameters": {"scale": "6", "connect.decimal.precision": "20"},
        "connect.name": "org.apache.kafka.connect.data.Decimal",
        "logicalType": "decimal", "precision": 20, "scale": 6}]
    assert field_type(schema, "date_add") == ["null", {"type": "long", "connect.version": 1,
                                                       "connect.name": "io.debezium.time.Timestamp"}]
    assert field_type(schema, "gift_message") == ["null", "string"]     # TEXT
    assert field_type(schema, "round_mode") == ["null", {"type": "int", "connect.type": "int16"}]  # TINYINT


def test_not_null_columns_are_required_and_carry_their_default():
    id_col = Column("id", Kind.LONG, "int unsigned", primary_key=True, nullable=False)
    active = Column("active", Kind.SHORT, "tinyint(1) unsigned", nullable=False, default="1")
    note = Column("note", Kind.STRING, "varchar(8)", nullable=True, default="'n/a'")
    price = Column("price", Kind.DECIMAL, "decimal(20,6)", 20, 6, nullable=False, default="0.000000")
    fields = {f["name"]: f for f in value_schema(TableDef("d", "t", (id_col, active, note, price), ("id",)),
                                                 "p")["fields"][0]["type"][1]["fields"]}
    assert fields["id"] == {"name": "id", "type": "long"}
    assert fields["active"] == {"name": "active", "default": 1,
                                "type": {"type": "int", "connect.default": 1, "connect.type": "int16"}}
    # a nullable column with a default: the default's branch first, as Avro wants of a union's default
    assert fields["note"] == {"name": "note", "type": [{"type": "string", "connect.default": "n/a"}, "null"],
                              "default": "n/a"}
    assert fields["price"]["default"] == "\x00"      # Connect Decimal 0: one zero byte, as ISO-8859-1


@pytest.mark.parametrize("modes,expected", [
    (TypeModes(time_precision_mode="connect"),
     {"type": "long", "connect.version": 1, "connect.name": "org.apache.kafka.connect.data.Timestamp",
      "logicalType": "timestamp-millis"}),
    (TypeModes(), {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.Timestamp"}),
])
def test_time_precision_mode_changes_datetime_as_debezium_does(modes, expected):
    assert field_type(value_schema(orders_table(), "pssync", modes), "date_add") == ["null", expected]


def test_decimal_and_unsigned_bigint_modes():
    table = TableDef("d", "t", (Column("id", Kind.UNSIGNED_LONG, "bigint unsigned", primary_key=True,
                                       nullable=False),
                                Column("p", Kind.DECIMAL, "decimal(10,2)", 10, 2)), ("id",))
    assert key_schema(table, "x")["fields"][0]["type"] == "long"
    precise = key_schema(table, "x", TypeModes(bigint_unsigned_handling_mode="precise"))["fields"][0]["type"]
    assert precise["connect.name"] == "org.apache.kafka.connect.data.Decimal" and precise["precision"] == 20
    fields = value_schema(table, "x", TypeModes(decimal_handling_mode="string"))["fields"][0]["type"][1]["fields"]
    assert fields[1]["type"] == ["null", "string"]
    fields = value_schema(table, "x", TypeModes(decimal_handling_mode="double"))["fields"][0]["type"][1]["fields"]
    assert fields[1]["type"] == ["null", "double"]


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
    assert key["connect.name"] == "pssync.prestashop.ps_stock_available.Key"
    assert key["namespace"] == "pssync.prestashop.ps_stock_available"


def test_envelope_is_debezium_shaped_and_round_trips():
    table = orders_table()
    schema = fastavro.parse_schema(value_schema(table, "pssync"))
    names = [f["name"] for f in value_schema(table, "pssync")["fields"]]
    assert names == ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
    after = {c.name: None for c in table.columns}
    after.update(id_order=4_000_000_000, total_paid_tax_incl=Decimal("12345678901234.123456"))
    record = {"before": None, "after": after, "op": "c", "ts_ms": 1, "ts_us": 1000, "ts_ns": 10**6,
              "source": {"version": "v", "connector": "mariadb", "name": "pssync", "ts_ms": 1,
                         "snapshot": "false", "db": "prestashop", "sequence": None, "ts_us": 1000,
                         "ts_ns": 10**6, "table": "ps_orders", "server_id": 1, "gtid": "0-1-5",
                         "file": "f", "pos": 4, "row": 0, "thread": None, "query": None},
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
