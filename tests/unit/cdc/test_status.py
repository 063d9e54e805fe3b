from pssync.cdc.binlog import format_position, parse_position
from pssync.cdc.offsets import AdhocSnapshot, SourceOffset
from pssync.cdc.status import bytes_behind, transactions_behind


def test_gtid_positions_merge_per_domain():
    pos = parse_position("0-1-10,1-2-5")
    pos[0] = "0-1-11"
    assert format_position(pos) == "0-1-11,1-2-5"


def test_transactions_behind_counts_every_domain():
    assert transactions_behind("0-1-10", "0-1-15,1-1-3") == 8
    assert transactions_behind("0-1-15", "0-1-15") == 0


def test_bytes_behind_spans_rotated_files():
    files = [("b.000001", 1000), ("b.000002", 500), ("b.000003", 300)]
    assert bytes_behind(files, "b.000003", 100, "b.000003", 300) == 200
    assert bytes_behind(files, "b.000001", 900, "b.000003", 300) == 100 + 500 + 300
    assert bytes_behind(files, "b.000000", 4, "b.000003", 300) == -1


def test_offset_serialisation_round_trips():
    off = SourceOffset("0-1-7", "b.000001", 1234, ts_ms=1700000000000, server_id=1, signal_offset=3,
                       partial_gtid="0-1-8", partial_rows=120,
                       adhoc=AdhocSnapshot(("ps_orders", "ps_product_shop"), (5, 1), "sig"))
    assert SourceOffset.from_bytes(off.to_bytes()) == off
    plain = SourceOffset("0-1-7", "b.000001", 1234)
    assert SourceOffset.from_bytes(plain.to_bytes()) == plain
