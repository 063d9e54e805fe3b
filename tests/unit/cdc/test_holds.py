"""A schema-conflict hold and its replay survive the offset's round trip; which transactions a
replay reads again is decided per GTID domain."""
from __future__ import annotations

from pssync.cdc.capture import _covers
from pssync.cdc.offsets import Replay, SourceOffset, TableHold


def test_hold_and_replay_round_trip_through_the_offset():
    offset = SourceOffset("0-1-40", "mysql-bin.000002", 900,
                          held=(TableHold("ps_stock_available", "0-1-30", "mysql-bin.000002", 400, "0-1-31",
                                          "p.db.ps_stock_available-value", "refused", 1700000000000),),
                          replay=Replay(("ps_orders",), "0-1-40,1-1-3", ("ps_orders",), "sig"))
    assert SourceOffset.from_bytes(offset.to_bytes()) == offset


def test_offsets_written_before_holds_existed_read_as_holding_nothing():
    old = b'{"gtid": "0-1-5", "file": "f", "pos": 4, "tables": ["ps_orders"]}'
    offset = SourceOffset.from_bytes(old)
    assert offset.held == () and offset.replay is None


def test_a_position_covers_the_transactions_up_to_it_in_each_domain():
    assert _covers("0-1-40,1-1-3", "0-1-40") and _covers("0-1-40,1-1-3", "1-2-2")
    assert not _covers("0-1-40,1-1-3", "0-1-41") and not _covers("0-1-40", "2-1-1")
    assert _covers("0-1-41,1-1-3", "0-1-40,1-1-3") and not _covers("0-1-41", "0-1-40,1-1-3")


def test_status_names_the_fix_and_warns_when_the_held_position_was_purged():
    from pssync.cdc.status import held_report

    offset = SourceOffset("0-1-40", "b.000003", 900, held=(TableHold(
        "ps_stock_available", "0-1-30", "b.000001", 400, "0-1-31", "subj", "refused", 1700000000000),))
    (kept,) = held_report(offset, "shop", "ps_", [("b.000001", 1000), ("b.000003", 900)])
    assert kept["table"] == "shop.ps_stock_available" and "warning" not in kept
    assert "pssync cdc resolve stock_available --mode force" in kept["fix"]
    (purged,) = held_report(offset, "shop", "ps_", [("b.000003", 900)])
    assert "no longer on the server" in purged["warning"]
