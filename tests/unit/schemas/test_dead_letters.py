"""schemas/dead_letters.py: what the one writer puts in the headers, the one reader finds again."""
from __future__ import annotations

from pssync.schemas.dead_letters import DeadLetter, error_headers, replay_headers


def test_a_consumed_record_parked_by_a_sink_reads_back_with_its_origin_and_reason():
    headers = error_headers("no order 999 (REF999) in ps_orders", error_class="PermanentFailure",
                            topic="pssync.commands.shop", partition=2, offset=41, sink="shop-db",
                            keep=[("trace-id", b"t-1")])
    assert [k for k, _ in headers] == [
        "trace-id", "__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
        "__connect.errors.exception.class.name", "__connect.errors.exception.message", "pssync.sink"]
    letter = DeadLetter("dlq", 0, 7, None, b"REF999", b"{}", tuple(headers))
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == ("pssync.commands.shop", 2, 41)
    assert (letter.reason, letter.error_class, letter.sink) == ("no order 999 (REF999) in ps_orders",
                                                              "PermanentFailure", "shop-db")
    assert letter.origin == "pssync.commands.shop[2]@41"
    assert replay_headers(headers, "dlq", 0, 7) == [("trace-id", b"t-1"), ("pssync.replayed-from", b"dlq:0:7")]


def test_a_row_parked_by_the_capture_names_its_table_and_binlog_position():
    headers = error_headers("column total_paid: not a decimal", error_class="BadValue", table="ps_orders",
                            gtid="0-1-5", position="mariadb-bin.000001:420")
    letter = DeadLetter("pssync.cdc.dead-letter", 0, 0, None, b"ps_orders", b"{}", tuple(headers))
    assert letter.origin == "table ps_orders at mariadb-bin.000001:420"
    assert letter.original_topic is None and letter.reason == "column total_paid: not a decimal"
