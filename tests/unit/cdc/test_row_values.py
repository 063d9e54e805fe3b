import datetime as dt
import io
from decimal import Decimal

import fastavro
import pytest

from pssync.cdc.columns import Column, Kind, TableDef
from pssync.cdc.avro_schema import TypeModes
from pssync.cdc.row_values import BadValue, RowConverter


def table(*cols: Column) -> TableDef:
    return TableDef("prestashop", "ps_orders", cols, (cols[0].name,))


ID = Column("id_order", Kind.LONG, "int unsigned", primary_key=True)


@pytest.mark.parametrize("zero", [None, "0000-00-00 00:00:00", b"0000-00-00 00:00:00"])
def test_zero_dates_in_nullable_columns_become_null(zero):
    conv = RowConverter(table(ID, Column("invoice_date", Kind.DATETIME, "datetime")))
    assert conv({"id_order": 1, "invoice_date": zero})["invoice_date"] is None


def test_datetime_is_the_wall_clock_in_epoch_millis_whatever_the_zone():
    cols = (ID, Column("date_add", Kind.DATETIME, "datetime"))
    value = dt.datetime(2024, 5, 1, 10, 0, 0)
    assert RowConverter(table(*cols))({"id_order": 1, "date_add": value})["date_add"] == 1714557600000
    # a time in a daylight-saving gap (Paris, 2026-03-29 02:30) is kept as written
    gap = RowConverter(table(*cols))({"id_order": 1, "date_add": dt.datetime(2026, 3, 29, 2, 30)})["date_add"]
    assert dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=gap) == dt.datetime(2026, 3, 29, 2, 30)


def test_timestamp_is_zoned_text_and_its_zero_is_null_or_epoch():
    nullable = RowConverter(table(ID, Column("ts", Kind.TIMESTAMP, "timestamp")))
    assert nullable({"id_order": 1, "ts": dt.datetime(1970, 1, 1)})["ts"] is None
    assert nullable({"id_order": 1, "ts": "0000-00-00 00:00:00"})["ts"] is None
    assert nullable({"id_order": 1, "ts": dt.datetime(1970, 1, 1, 0, 0, 1)})["ts"] == "1970-01-01T00:00:01Z"
    micro = RowConverter(table(ID, Column("ts", Kind.TIMESTAMP, "timestamp(6)", fsp=6, nullable=False)))
    assert micro({"id_order": 1, "ts": dt.datetime(2038, 1, 19, 3, 14, 7, 5)})["ts"] == "2038-01-19T03:14:07.000005Z"
    assert micro({"id_order": 1, "ts": dt.datetime(1970, 1, 1)})["ts"] == "1970-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("zero", [None, "0000-00-00 00:00:00", "2024-00-00 10:00:00"])
def test_not_null_zero_dates_are_the_default_else_the_epoch(zero):
    cols = (ID, Column("invoice_date", Kind.DATETIME, "datetime", nullable=False),
            Column("d", Kind.DATE, "date", nullable=False, default="'2024-01-02'"))
    conv = RowConverter(table(*cols))
    assert conv({"id_order": 1, "invoice_date": zero, "d": zero}) == {"id_order": 1, "invoice_date": 0, "d": 19724}


def test_binary_is_padded_bits_little_endian_and_unsigned_bigint_wraps_as_debezium():
    cols = (ID, Column("b", Kind.BYTES, "binary(4)", fixed_length=4),
            Column("bits", Kind.BIT, "bit(10)", precision=10),
            Column("big", Kind.UNSIGNED_LONG, "bigint unsigned"))
    out = RowConverter(table(*cols))({"id_order": 1, "b": b"ab", "bits": "1010101010",
                                      "big": 18446744073709551615})
    assert out == {"id_order": 1, "b": b"ab\x00\x00", "bits": b"\xaa\x02", "big": -1}


def test_decimal_modes():
    col = Column("p", Kind.DECIMAL, "decimal(10,2)", 10, 2)
    as_text = RowConverter(table(ID, col), TypeModes(decimal_handling_mode="string"))
    assert as_text({"id_order": 1, "p": Decimal("1.5")})["p"] == "1.50"
    as_double = RowConverter(table(ID, col), TypeModes(decimal_handling_mode="double"))
    assert as_double({"id_order": 1, "p": Decimal("1.5")})["p"] == 1.5


def test_time_is_microseconds_or_connect_milliseconds():
    col = Column("t", Kind.TIME, "time(6)", fsp=6)
    assert RowConverter(table(ID, col))({"id_order": 1, "t": -dt.timedelta(microseconds=1)})["t"] == -1
    connect = RowConverter(table(ID, col), TypeModes(time_precision_mode="connect"))
    assert connect({"id_order": 1, "t": dt.timedelta(hours=1, microseconds=1500)})["t"] == 3_600_001


def test_microsecond_datetimes_keep_microseconds():
    conv = RowConverter(table(ID, Column("d", Kind.DATETIME, "datetime(6)", fsp=6)))
    assert conv({"id_order": 1, "d": dt.datetime(1970, 1, 1, 0, 0, 0, 7)})["d"] == 7


def test_set_json_bit_and_bytes_normalised_across_readers():
    cols = (ID, Column("s", Kind.SET, "set", values=("a", "b", "c")), Column("j", Kind.JSON, "json"),
            Column("flag", Kind.BIT, "bit(1)", precision=1), Column("blob", Kind.BYTES, "blob"),
            Column("txt", Kind.STRING, "text"))
    conv = RowConverter(table(*cols))
    from_binlog = conv({"id_order": 1, "s": {"c", "a"}, "j": {b"k": [1, b"v"]}, "flag": "1",
                        "blob": b"\x00\x01", "txt": "é"})
    from_select = conv({"id_order": 1, "s": "a,c", "j": '{"k":[1,"v"]}', "flag": b"\x01",
                        "blob": b"\x00\x01", "txt": b"\xc3\xa9"})
    assert from_binlog == from_select == {"id_order": 1, "s": "a,c", "j": '{"k":[1,"v"]}',
                                          "flag": True, "blob": b"\x00\x01", "txt": "é"}


@pytest.mark.parametrize("precision,scale,value", [
    (20, 6, "99999999999999.999999"), (20, 6, "-0.000001"), (20, 6, "0.000000"), (13, 6, "1.5"),
    (38, 18, "-12345678901234567890.123456789012345678"), (10, 0, "42")])
def test_decimal_kept_exact_through_avro(precision, scale, value):
    col = Column("p", Kind.DECIMAL, f"decimal({precision},{scale})", precision, scale)
    encoded = RowConverter(table(ID, col))({"id_order": 1, "p": Decimal(value)})["p"]
    schema = fastavro.parse_schema({"type": "record", "name": "R", "fields": [
        {"name": "p", "type": {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}}]})
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, {"p": encoded})
    back = fastavro.schemaless_reader(io.BytesIO(buf.getvalue()), schema)["p"]
    assert back == Decimal(value) and back.as_tuple().exponent == -scale


def test_decimal_with_more_places_than_the_column_is_refused():
    conv = RowConverter(table(ID, Column("p", Kind.DECIMAL, "decimal(20,2)", 20, 2)))
    with pytest.raises(BadValue, match="more than 2 decimal places"):
        conv({"id_order": 1, "p": Decimal("1.001")})


def test_unconvertible_value_names_table_column_and_value():
    conv = RowConverter(table(ID, Column("date_add", Kind.DATETIME, "datetime")))
    with pytest.raises(BadValue, match=r"prestashop\.ps_orders\.date_add: cannot convert 'garbage'"):
        conv({"id_order": 1, "date_add": "garbage"})


@pytest.mark.parametrize("partial", ["1985-06-00", "2024-00-00", b"1985-06-00", "1985-06-00 10:00:00"])
def test_dates_with_a_zero_part_are_null_as_the_binlog_reader_gives_them(partial):
    conv = RowConverter(table(ID, Column("birthday", Kind.DATE, "date"), Column("d", Kind.DATETIME, "datetime")))
    assert conv({"id_order": 1, "birthday": partial, "d": partial}) == {"id_order": 1, "birthday": None, "d": None}


def test_year_zero_is_zero_from_both_readers():
    conv = RowConverter(table(ID, Column("y", Kind.YEAR, "year")))
    assert conv({"id_order": 1, "y": 1900})["y"] == 0      # the binlog reader's 0000
    assert conv({"id_order": 1, "y": 0})["y"] == 0         # SELECT's
    assert conv({"id_order": 1, "y": 2024})["y"] == 2024
