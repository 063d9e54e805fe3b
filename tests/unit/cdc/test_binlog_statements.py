"""Which query events change captured tables (and so cannot be captured from a non-row binlog)."""
from pssync.cdc.binlog import changed_tables
from pssync.cdc.offsets import RunState
from pssync.cdc.status import run_report

TABLES = frozenset({"ps_orders", "ps_stock_available"})


def changed(query: str, schema: str = "prestashop") -> list[str]:
    return changed_tables(query.encode(), schema, "prestashop", TABLES)


def test_row_changing_statements_on_captured_tables_are_found():
    assert changed("INSERT INTO ps_orders (id_order) VALUES (9)") == ["ps_orders"]
    assert changed("replace into `prestashop`.`ps_orders` values (1)", schema="") == ["ps_orders"]
    assert changed("/* app */ UPDATE ps_orders o JOIN ps_stock_available s ON 1 SET o.x = 1") \
        == ["ps_orders", "ps_stock_available"]
    assert changed("DELETE FROM prestashop.ps_stock_available WHERE 1", schema="other") == ["ps_stock_available"]
    assert changed("LOAD DATA INFILE '/tmp/x' INTO TABLE ps_orders") == ["ps_orders"]


def test_ddl_other_tables_and_names_in_literals_are_not_changes():
    assert changed("ALTER TABLE ps_orders ADD COLUMN x INT") == []
    assert changed("INSERT INTO ps_customer VALUES (1)") == []
    assert changed("INSERT INTO other.ps_orders VALUES (1)") == []
    assert changed("INSERT INTO ps_log (message) VALUES ('ps_orders changed')") == []
    assert changed("BEGIN") == []


def test_status_says_streaming_only_while_the_capture_runs():
    failed = RunState("failed", "ChangeNotInRows: prestashop.ps_orders ...", 1_700_000_000_000)
    assert run_report(True, True, failed) == {"state": "streaming"}
    assert run_report(False, True, failed)["state"] == "failed"
    assert run_report(False, True, failed)["reason"].startswith("ChangeNotInRows")
    assert run_report(False, True, RunState("running")) == {"state": "stopped"}
    assert run_report(False, True, None) == {"state": "stopped"}


def test_truncate_of_a_captured_table_is_a_change_the_binlog_does_not_hold_as_rows():
    assert changed("TRUNCATE TABLE ps_stock_available") == ["ps_stock_available"]
    assert changed("truncate `prestashop`.`ps_orders`", schema="") == ["ps_orders"]
    assert changed("TRUNCATE TABLE ps_connections") == []
