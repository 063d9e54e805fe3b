"""The compiled row decoder (cdc/binlog_rows.py) reads real binlog events exactly as
python-mysql-replication does: the same binlog range is read twice, with the library's reader and
with the compiled plans, and every before/after value must agree in type and value. The events
cover every column type of the all-types table (zero and partial dates, DECIMAL edges, emoji
text, bits, negative times, NULLs, inserts/updates/deletes, a primary-key update) and PrestaShop's
own ps_orders and ps_stock_available (multi-row INSERT, UPDATE, DELETE)."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from pssync.cdc import binlog_rows
from pssync.cdc.binlog import BinlogReader, Rows, Transaction, parse_position
from tests.integration.cdc import debezium_types as types

pytestmark = pytest.mark.integration


def gtid_position(scratch) -> str:
    return scratch.sql("SELECT @@gtid_binlog_pos AS g")[0]["g"]


def read_changes(scratch, tables: list[str], start: str, head: str) -> list[tuple]:
    params = scratch.stack.mysql_params()
    conn = {k: params[k] for k in ("host", "port", "user", "password")}
    target = parse_position(head)
    reader = BinlogReader(conn, random.randint(10_000, 2**31), scratch.database, tables, start, 0.2)
    out = []
    try:
        for item in reader:
            if isinstance(item, Rows):
                out.extend((c.table.table, c.op, c.before, c.after) for c in item.changes)
            elif isinstance(item, Transaction) and all(
                    int(parse_position(item.position).get(d, "0-0-0").rsplit("-", 1)[1]) >= int(g.rsplit("-", 1)[1])
                    for d, g in target.items()):
                break
    finally:
        reader.close()
    return out


def typed(value):
    """A value with its exact type, recursively (1 == 1.0 == True must not pass for equal)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(value))
    return (type(value).__name__, str(value), value)


def test_compiled_decoder_reads_every_type_as_the_library_does(scratch, monkeypatch):
    stock_sql = ("INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, id_shop_group, "
                 "quantity, physical_quantity, reserved_quantity, depends_on_stock, out_of_stock, location) VALUES ")
    order_cols = "id_order, reference, total_paid, total_paid_tax_incl, invoice_date, delivery_date, date_add"
    with scratch.db.cursor() as cur:
        cur.execute(types.create_table_sql())
    start = gtid_position(scratch)
    with scratch.db.cursor() as cur:
        types.write(cur, [types.insert_sql(types.TABLE, i, code, values)
                          for i, code, values in types.SNAPSHOT_ROWS])
        types.write(cur, types.streaming_statements())
        cur.execute(stock_sql + ", ".join(
            f"({900_000 + i}, {i % 3}, 1, 0, {i - 50}, {i}, 0, 0, {i % 3}, '{'A-' * (i % 4)}')" for i in range(120)))
        cur.execute("UPDATE ps_stock_available SET quantity = quantity - 1, location = NULL "
                    "WHERE id_product >= 900000")
        cur.execute("DELETE FROM ps_stock_available WHERE id_product >= 900100")
        cur.execute(f"SELECT {order_cols} FROM ps_orders ORDER BY id_order LIMIT 3")
        orders = cur.fetchall()
        assert orders, "the PrestaShop fixtures have orders"
        cur.execute("UPDATE ps_orders SET total_paid = total_paid + 0.000001, invoice_date = '0000-00-00 00:00:00', "
                    "delivery_date = %s, note = 'caf\u00e9 \U0001F600' WHERE id_order <= 3",
                    (dt.datetime(2026, 2, 28, 23, 59, 59),))
        cur.execute("DELETE FROM ps_orders WHERE id_order = 1")
    head = gtid_position(scratch)
    tables = [types.TABLE, "ps_stock_available", "ps_orders"]

    library_calls = []
    original = binlog_rows._original_fetch_rows

    def library_reader(event):
        library_calls.append(event.table)
        return original(event)

    monkeypatch.setattr(binlog_rows, "_original_fetch_rows", library_reader)
    monkeypatch.setattr(binlog_rows, "ENABLED", False)
    library = read_changes(scratch, tables, start, head)
    assert library_calls, "the library's reader was not used with the compiled decoder off"
    library_calls.clear()
    monkeypatch.setattr(binlog_rows, "ENABLED", True)
    compiled = read_changes(scratch, tables, start, head)
    assert library_calls == [], f"rows of {set(library_calls)} fell back to the library's reader"

    assert len(compiled) == len(library)
    assert {t for t, *_ in library} == {types.TABLE, "ps_stock_available", "ps_orders"}
    assert {op for _, op, *_ in library} == {"c", "u", "d"}
    for n, (ours, theirs) in enumerate(zip(compiled, library)):
        assert ours[:2] == theirs[:2], n
        for image in (2, 3):
            if theirs[image] is None:
                assert ours[image] is None, (n, image)
                continue
            assert list(ours[image]) == list(theirs[image]), (n, image)      # same columns, same order
            for column, value in theirs[image].items():
                assert typed(ours[image][column]) == typed(value), (n, theirs[0], theirs[1], image, column)


def test_a_plan_is_built_once_per_table_map_and_bitmap(scratch):
    with scratch.db.cursor() as cur:
        cur.execute(types.create_table_sql())
    start = gtid_position(scratch)
    with scratch.db.cursor() as cur:
        types.write(cur, [types.insert_sql(types.TABLE, i, code, values)
                          for i, code, values in types.SNAPSHOT_ROWS])
    head = gtid_position(scratch)
    built = []
    original = binlog_rows.Plan.__init__

    def counting(self, *args, **kwargs):
        built.append(args[1])
        original(self, *args, **kwargs)

    binlog_rows.Plan.__init__ = counting
    try:
        changes = read_changes(scratch, [types.TABLE], start, head)
    finally:
        binlog_rows.Plan.__init__ = original
    assert len(changes) == len(types.SNAPSHOT_ROWS)
    assert len(built) == 1, built        # six single-row INSERTs, one table map: one plan


@pytest.mark.parametrize("image", ["MINIMAL", "NOBLOB"])
def test_partial_row_images_decode_as_the_library_does(scratch, monkeypatch, image):
    """A session writing with binlog_row_image MINIMAL or NOBLOB leaves columns out of the row
    images (columns-present bitmaps with holes); the plan for such a bitmap agrees too."""
    import pymysql

    with scratch.db.cursor() as cur:
        cur.execute(types.create_table_sql())
    with scratch.db.cursor() as cur:
        types.write(cur, [types.insert_sql(types.TABLE, i, code, values) for i, code, values in types.SNAPSHOT_ROWS])
    start = gtid_position(scratch)
    # SET SESSION binlog_row_image needs the stack's root (from 127.0.0.1 only)
    session = pymysql.connect(host="127.0.0.1", port=scratch.stack.mariadb_port, user="root",
                              database=scratch.database, autocommit=True)
    try:
        with session.cursor() as cur:
            cur.execute(f"SET SESSION binlog_row_image = '{image}'")
            types.write(cur, [
                types.insert_sql(types.TABLE, 30, "partial", {"n_int": "3", "c_blob": "x'0102'"}),
                f"UPDATE `{types.TABLE}` SET n_int = 7, n_varchar64 = NULL, c_dec20_6 = '-1.5' WHERE id IN (1, 5, 6)",
                f"UPDATE `{types.TABLE}` SET n_blob = x'aa', n_date = '2024-02-00' WHERE id = 30",
                f"DELETE FROM `{types.TABLE}` WHERE id IN (3, 30)",
            ])
    finally:
        session.close()
    head = gtid_position(scratch)
    library_calls = []
    original = binlog_rows._original_fetch_rows
    monkeypatch.setattr(binlog_rows, "_original_fetch_rows", lambda event: (library_calls.append(1), original(event))[1])
    monkeypatch.setattr(binlog_rows, "ENABLED", False)
    library = read_changes(scratch, [types.TABLE], start, head)
    library_calls.clear()
    monkeypatch.setattr(binlog_rows, "ENABLED", True)
    bitmaps = []
    plan_init = binlog_rows.Plan.__init__

    def recording(self, columns, maps, ignore_errors):
        bitmaps.extend(maps)
        plan_init(self, columns, maps, ignore_errors)

    monkeypatch.setattr(binlog_rows.Plan, "__init__", recording)
    compiled = read_changes(scratch, [types.TABLE], start, head)
    assert not library_calls
    assert len(library) == 7
    # the images really have holes: some present-columns bitmap leaves a column out
    width = len(types.column_names())
    assert any(not m[i // 8] >> (i % 8) & 1 for m in bitmaps for i in range(width)), bitmaps
    for n, (ours, theirs) in enumerate(zip(compiled, library, strict=True)):
        assert typed(ours[2] or {}) == typed(theirs[2] or {}), (n, "before")
        assert typed(ours[3] or {}) == typed(theirs[3] or {}), (n, "after")
