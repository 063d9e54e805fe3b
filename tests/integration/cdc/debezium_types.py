"""The all-types table of the Debezium-compatibility tests (and of the reference dump in
debezium_reference/): every MariaDB column type PrestaShop-like schemas use, each NOT NULL with a
DEFAULT (column ``c_<name>``) and nullable (``n_<name>``), under a composite primary key.

Rows cover zero dates ('0000-00-00'), partial dates ('2024-00-00'), DECIMAL edge values, emoji
text, unsigned maxima, negative times, and bits.

Not YEAR 0000: Debezium 3.5's snapshot fails on it (the MariaDB JDBC driver's YearColumn throws
IllegalArgumentException from java.sql.Date.valueOf), so no row holds it."""
from __future__ import annotations

from collections.abc import Sequence

TABLE = "all_types"

# (name, SQL type, DEFAULT literal of the NOT NULL variant)
TYPES: list[tuple[str, str, str]] = [
    ("tinyint", "TINYINT", "1"),
    ("bool", "TINYINT(1)", "1"),
    ("tinyint_u", "TINYINT UNSIGNED", "200"),
    ("smallint", "SMALLINT", "-5"),
    ("smallint_u", "SMALLINT UNSIGNED", "60000"),
    ("mediumint", "MEDIUMINT", "7"),
    ("int", "INT", "-42"),
    ("int_u", "INT UNSIGNED", "4000000000"),
    ("bigint", "BIGINT", "-9000000000"),
    ("bigint_u", "BIGINT UNSIGNED", "18446744073709551615"),
    ("dec20_6", "DECIMAL(20,6)", "'12.345678'"),
    ("dec65_30", "DECIMAL(65,30)", "'1.500000000000000000000000000000'"),
    ("dec10_0", "DECIMAL(10,0)", "'42'"),
    ("float", "FLOAT", "1.5"),
    ("double", "DOUBLE", "2.25"),
    ("char3", "CHAR(3)", "'abc'"),
    ("varchar64", "VARCHAR(64)", "'dflt'"),
    ("text", "TEXT", "'t'"),
    ("mediumtext", "MEDIUMTEXT", "'mt'"),
    ("longtext", "LONGTEXT", "'lt'"),
    ("blob", "BLOB", "'b'"),
    ("binary4", "BINARY(4)", "'ab'"),
    ("varbinary8", "VARBINARY(8)", "'xy'"),
    ("enum", "ENUM('a','b')", "'a'"),
    ("set", "SET('x','y','z')", "'x,z'"),
    ("json", "JSON", "'{}'"),
    ("date", "DATE", "'2024-01-02'"),
    ("datetime", "DATETIME", "'2024-01-02 03:04:05'"),
    ("datetime3", "DATETIME(3)", "'2024-01-02 03:04:05.123'"),
    ("datetime6", "DATETIME(6)", "'2024-01-02 03:04:05.123456'"),
    ("timestamp", "TIMESTAMP", "'2024-01-02 03:04:05'"),
    ("timestamp6", "TIMESTAMP(6)", "'2024-01-02 03:04:05.123456'"),
    ("time", "TIME", "'12:34:56'"),
    ("time6", "TIME(6)", "'01:02:03.456789'"),
    ("year", "YEAR", "2024"),
    ("bit1", "BIT(1)", "b'1'"),
    ("bit10", "BIT(10)", "b'1010101010'"),
]


def column_names() -> list[str]:
    return ["id", "code"] + [f"{p}_{name}" for name, _, _ in TYPES for p in ("c", "n")]


def create_table_sql(table: str = TABLE) -> str:
    cols = ["`id` INT NOT NULL", "`code` VARCHAR(16) NOT NULL"]
    for name, sql_type, default in TYPES:
        cols.append(f"`c_{name}` {sql_type} NOT NULL DEFAULT {default}")
        cols.append(f"`n_{name}` {sql_type} NULL DEFAULT NULL")
    cols.append("PRIMARY KEY (`id`, `code`)")
    return (f"CREATE TABLE `{table}` (\n  " + ",\n  ".join(cols)
            + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci")


# Sessions writing these rows need a sql_mode without NO_ZERO_DATE / NO_ZERO_IN_DATE / STRICT.
SESSION_SQL_MODE = "NO_ENGINE_SUBSTITUTION"

# Snapshot rows: (id, code, {column: SQL literal}); columns left out take their DEFAULT (c_) / NULL (n_).
SNAPSHOT_ROWS: list[tuple[int, str, dict[str, str]]] = [
    (1, "defaults", {}),
    (2, "zero", {
        "c_date": "'0000-00-00'", "n_date": "'0000-00-00'",
        "c_datetime": "'0000-00-00 00:00:00'", "n_datetime": "'0000-00-00 00:00:00'",
        "c_datetime3": "'0000-00-00 00:00:00.000'", "n_datetime6": "'0000-00-00 00:00:00.000000'",
        "c_timestamp": "'0000-00-00 00:00:00'", "n_timestamp": "'0000-00-00 00:00:00'",
        "c_int": "0", "c_dec20_6": "0", "n_dec20_6": "0",
    }),
    (3, "partial", {
        "c_date": "'2024-00-00'", "n_date": "'2024-05-00'",
        "c_datetime": "'2024-00-00 10:11:12'", "n_datetime": "'2024-05-00 00:00:00'",
        "c_datetime6": "'2024-00-01 00:00:00.000001'",
    }),
    (4, "decimal", {
        "c_dec20_6": "'99999999999999.999999'", "n_dec20_6": "'-99999999999999.999999'",
        "c_dec65_30": "'99999999999999999999999999999999999.999999999999999999999999999999'",
        "n_dec65_30": "'-0.000000000000000000000000000001'",
        "c_dec10_0": "'9999999999'", "n_dec10_0": "'-9999999999'",
        "c_float": "-3.4e38", "n_float": "1.17549e-38", "c_double": "1.7976931348623157e308", "n_double": "-0",
    }),
    (5, "text \U0001F600", {
        "c_varchar64": "'emoji \U0001F600 é ß 中文'", "n_varchar64": "''",
        "c_char3": "'\U0001F600ab'", "n_char3": "'é'",
        "c_text": "'\U0001F389 party'", "n_mediumtext": "'x'", "n_longtext": "REPEAT('L', 1000)",
        "c_blob": "x'00ff10'", "n_blob": "x''", "c_binary4": "x'00010203'", "n_binary4": "'a'",
        "c_varbinary8": "x'ff'", "n_varbinary8": "x'0000'",
        "c_enum": "'b'", "n_enum": "'a'", "c_set": "''", "n_set": "'x,y,z'",
        "c_json": "'{\"a\": [1, 2.5, \"\U0001F600\"], \"b\": null}'", "n_json": "'[]'",
    }),
    (6, "limits", {
        "c_tinyint": "-128", "n_tinyint": "127", "c_bool": "0", "n_bool": "5",
        "c_tinyint_u": "255", "n_tinyint_u": "0", "c_smallint": "-32768", "n_smallint_u": "65535",
        "c_mediumint": "-8388608", "n_mediumint": "8388607", "c_int": "-2147483648", "n_int": "2147483647",
        "c_int_u": "4294967295", "n_int_u": "0", "c_bigint": "-9223372036854775808",
        "n_bigint": "9223372036854775807", "c_bigint_u": "18446744073709551615", "n_bigint_u": "9223372036854775808",
        "c_time": "'-838:59:59'", "n_time": "'838:59:59'", "c_time6": "'-00:00:00.000001'", "n_time6": "'23:59:59.999999'",
        "c_year": "1901", "n_year": "2155", "c_bit1": "b'0'", "n_bit1": "b'1'",
        "c_bit10": "b'0000000001'", "n_bit10": "b'1111111111'",
        "c_timestamp": "'1970-01-01 00:00:01'", "n_timestamp6": "'2038-01-19 03:14:07.999999'",
        "c_datetime": "'1000-01-01 00:00:00'", "n_datetime6": "'9999-12-31 23:59:59.999999'",
        "c_date": "'1000-01-01'", "n_date": "'9999-12-31'",
    }),
]


def insert_sql(table: str, row_id: int, code: str, values: dict[str, str]) -> str:
    cols = ["`id`", "`code`"] + [f"`{c}`" for c in values]
    code_literal = "'" + code.replace("'", "''") + "'"
    vals = [str(row_id), code_literal] + list(values.values())
    return f"INSERT INTO `{table}` ({', '.join(cols)}) VALUES ({', '.join(vals)})"


def streaming_statements(table: str = TABLE) -> list[str]:
    """Streamed after the snapshot: inserts (zero dates, edge decimals), updates, a primary-key
    update and deletes."""
    t = f"`{table}`"
    return [
        insert_sql(table, 10, "s-ins", {"n_int": "10", "n_varchar64": "'streamed \U0001F680'",
                                        "c_date": "'0000-00-00'", "n_datetime": "'0000-00-00 00:00:00'",
                                        "c_dec65_30": "'-0.000000000000000000000000000001'"}),
        insert_sql(table, 11, "s-ins", {"c_date": "'2024-00-00'", "n_date": "'2024-02-00'",
                                        "n_dec20_6": "'0.000001'", "n_bigint_u": "18446744073709551615"}),
        f"UPDATE {t} SET n_int = 99, c_varchar64 = 'updated', n_date = '0000-00-00', "
        f"n_dec10_0 = 1, c_json = '{{\"u\": true}}' WHERE id = 1 AND code = 'defaults'",
        f"UPDATE {t} SET n_varchar64 = NULL, n_datetime6 = NULL, c_bit10 = b'1100110011' WHERE id = 6",
        f"UPDATE {t} SET code = 'pk-moved', id = 20 WHERE id = 10 AND code = 's-ins'",
        f"DELETE FROM {t} WHERE id = 2 AND code = 'zero'",
        f"DELETE FROM {t} WHERE id = 11",
    ]


def write(cursor, statements: Sequence[str]) -> None:
    cursor.execute(f"SET SESSION sql_mode = '{SESSION_SQL_MODE}'")
    for statement in statements:
        cursor.execute(statement)
