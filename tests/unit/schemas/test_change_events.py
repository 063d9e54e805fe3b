import datetime as dt

from pssync.cdc.avro_schema import TypeModes, value_schema
from pssync.cdc.columns import Column, Kind, TableDef
from pssync.schemas.change_events import row_adapter

UTC = dt.timezone.utc
TABLE = TableDef("prestashop", "ps_orders", (
    Column("id_order", Kind.LONG, "int unsigned", primary_key=True, nullable=False),
    Column("date_add", Kind.DATETIME, "datetime", nullable=False),
    Column("date_upd", Kind.DATETIME, "datetime(6)", fsp=6),
    Column("birthday", Kind.DATE, "date"),
    Column("seen", Kind.TIMESTAMP, "timestamp"),
    Column("qty", Kind.INT, "int")), ("id_order",))


def event(after: dict) -> dict:
    return {"before": None, "after": after, "op": "c", "source": {}}


def test_processors_read_debezium_times_as_python_values_in_the_shop_zone():
    adapt = row_adapter(value_schema(TABLE, "p"), "Europe/Paris")
    out = adapt(event({"id_order": 1, "date_add": 1714557600000, "date_upd": 1714557600000001,
                       "birthday": 19724, "seen": "2024-05-01T10:00:00Z", "qty": 3}))["after"]
    assert out["date_add"] == dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC)      # 10:00 in Paris (CEST)
    assert out["date_upd"] == dt.datetime(2024, 5, 1, 8, 0, 0, 1, tzinfo=UTC)
    assert out["birthday"] == dt.date(2024, 1, 2)
    assert out["seen"] == dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert out["qty"] == 3


def test_connect_mode_timestamps_are_read_the_same_way():
    adapt = row_adapter(value_schema(TABLE, "p", TypeModes(time_precision_mode="connect")), "UTC")
    decoded = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)     # fastavro's timestamp-millis
    assert adapt(event({"date_add": decoded, "birthday": dt.date(2024, 1, 2)}))["after"] == \
        {"date_add": decoded, "birthday": dt.date(2024, 1, 2)}


def test_other_schemas_are_left_alone():
    assert row_adapter({"type": "record", "name": "Ack", "fields": [{"name": "x", "type": "int"}]}) is None
    assert row_adapter("string") is None
