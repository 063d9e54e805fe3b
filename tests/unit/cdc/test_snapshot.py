"""The chunked initial snapshot's pure parts: progress kept in the offset, Debezium's
source.snapshot markers, keyset conditions and the progress figures."""
from __future__ import annotations

import datetime as dt

from pssync.cdc.offsets import SourceOffset
from pssync.cdc.snapshot import Rate, SnapshotProgress, _after, marker, progress_line
from pssync.cdc.status import snapshot_report


def run(tables: dict[str, int], limit: int, progress: SnapshotProgress | None = None):
    """Drive the progress through the tables (name -> rows) as the capture does; returns the
    chunks (table, keys, markers) and the final progress."""
    plan = progress or SnapshotProgress.start(list(tables))
    chunks = []
    while not plan.finished:
        name = plan.table
        after = plan.after_key[0] if plan.after_key else 0
        keys = [k for k in range(1, tables[name] + 1) if k > after][:limit + 1]
        more, keys = len(keys) > limit, keys[:limit]
        later = sum(tables[t] for t in plan.tables[1:])
        following = plan.after_chunk(len(keys), (keys[-1],) if keys else None, more)
        if keys or following.finished:
            chunks.append((name, keys, plan.markers(len(keys), more, later)))
        plan = following
    return chunks, plan


def test_markers_follow_debeziums_precedence():
    assert marker(first=True, first_in_table=True, last_in_table=True, last=True) == "first"
    assert marker(False, True, True, True) == "last"
    assert marker(False, True, True, False) == "first_in_data_collection"
    assert marker(False, False, True, False) == "last_in_data_collection"
    assert marker(False, False, False, False) == "true"


def test_chunks_cover_every_key_once_and_mark_the_ends():
    chunks, plan = run({"a": 5, "b": 0, "c": 6, "d": 0}, limit=3)
    # the empty table last: one commit without rows ends the snapshot
    assert [(t, k) for t, k, _ in chunks] == [("a", [1, 2, 3]), ("a", [4, 5]), ("c", [1, 2, 3]), ("c", [4, 5, 6]),
                                              ("d", [])]
    marks = [m for _, _, ms in chunks for m in ms]
    assert marks == ["first", "true", "true", "true", "last_in_data_collection",
                     "first_in_data_collection", "true", "true", "true", "true", "last"]
    assert plan.finished and plan.rows == 11 and plan.chunks == 5
    assert dict(plan.done) == {"a": 5, "b": 0, "c": 6, "d": 0}


def test_a_table_that_fills_its_last_chunk_exactly_still_gets_its_last_marker():
    chunks, _ = run({"a": 4, "b": 2}, limit=2)
    assert [ms for _, _, ms in chunks] == [["first", "true"], ["true", "last_in_data_collection"],
                                           ["first_in_data_collection", "last"]]


def test_resuming_from_the_stored_progress_gives_the_remaining_chunks_and_no_second_first():
    tables = {"a": 5, "c": 4}
    whole, _ = run(tables, limit=2)
    plan = SnapshotProgress.start(list(tables))
    for _ in range(2):                      # two chunks committed, then the crash
        plan = plan.after_chunk(2, (plan.after_key[0] + 2 if plan.after_key else 2,), True)
    stored = SourceOffset("0-1-9", "b.000001", 400, snapshot_completed=False, snapshot=plan).to_bytes()
    resumed = SourceOffset.from_bytes(stored).snapshot
    assert resumed == plan and resumed.after_key == (4,)
    rest, final = run(tables, limit=2, progress=resumed)
    assert whole[2:] == rest                # same keys and markers as without the crash
    assert [m for _, _, ms in rest for m in ms].count("first") == 0
    assert final.rows == 9 and final.chunks == 5


def test_everything_empty_still_ends_with_one_commit():
    chunks, plan = run({"a": 0, "b": 0}, limit=5)
    assert chunks == [("b", [], [])] and plan.finished


def test_composite_keys_are_compared_column_by_column():
    assert _after(("id_order",), None) == ("", ())
    assert _after(("id_order",), (5,)) == ("WHERE (`id_order` > %s)", (5,))
    where, args = _after(("a", "b", "c"), (1, "x", 3))
    assert where == "WHERE (`a` > %s) OR (`a` = %s AND `b` > %s) OR (`a` = %s AND `b` = %s AND `c` > %s)"
    assert args == (1, 1, "x", 1, "x", 3)


def test_keys_json_cannot_hold_are_stored_as_text_mysql_compares():
    plan = SnapshotProgress.start(["t"]).after_chunk(1, (dt.date(2026, 1, 2), 7), True)
    back = SourceOffset.from_bytes(SourceOffset("", "", 0, snapshot_completed=False, snapshot=plan).to_bytes())
    assert back.snapshot.after_key == ("2026-01-02", 7)


def test_progress_figures():
    clock = iter([0.0, 5.0, 10.0, 10.0, 12.0]).__next__
    rate = Rate(every_s=10, clock=clock)          # started at 0
    rate.add(5000)
    assert not rate.due()                         # 5 s
    assert rate.due()                             # 10 s
    assert rate.per_second() == 500
    plan = SnapshotProgress.start(["a", "b"]).with_totals({"a": 10, "b": 40}).after_chunk(10, None, False)
    plan = plan.after_chunk(10, (10,), True)
    assert progress_line(plan, 500) == "b 10/40 rows (25.0 %), 1 of 2 tables done, 2 chunks, 20 rows, 500 rows/s"
    report = snapshot_report(plan)
    assert report["snapshot_tables"] == {"a": "10/10 rows (100.0 %), done", "b": "10/40 rows (25.0 %), reading"}
    assert report["snapshot_chunks"] == 2 and report["snapshot_after_key"] == (10,)
