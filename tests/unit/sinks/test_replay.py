"""sinks/replay.py: the pure parts of listing, replaying and re-running (no Kafka here)."""
from __future__ import annotations

import datetime as dt

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE

from pssync.schemas.dead_letters import REPLAYED_FROM, DeadLetter, preview, replay_headers
from pssync.sinks.replay import (
    Refused,
    _dead_letter,
    from_ms,
    newest,
    parse_positions,
    parse_time,
    replay_target,
    select,
    to_ms,
    window_bounds,
)

UTC = dt.timezone.utc
DLQ = "pssync.sinks.dead-letter"


def sink_dead_letter(offset: int, *, partition: int = 0, extra: tuple = (), ts: dt.datetime | None = None,
                     **overrides: bytes) -> DeadLetter:
    """As sinks.runner.headers_for_dead_letter writes them: original headers first."""
    errors = {"__connect.errors.topic": b"pssync.commands.shop", "__connect.errors.partition": b"2",
              "__connect.errors.offset": b"41", "__connect.errors.exception.class.name": b"PermanentFailure",
              "__connect.errors.exception.message": b"no order 999 (REF999) in ps_orders",
              "pssync.sink": b"shop-db-prestashop", **overrides}
    headers = (*extra, *((k, v) for k, v in errors.items() if v is not None))
    return DeadLetter(DLQ, partition, offset, ts or dt.datetime(2024, 5, 1, 12, 0, offset, tzinfo=UTC),
                      b"REF999", b'{"type": "order_state"}', headers)


# ---- times ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2024-05-01T12:30:00Z", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("2024-05-01T14:30:00+02:00", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("2024-05-01T12:30", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),          # naive: UTC
    ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=UTC)),
    (" 2024-05-01 12:30:00.250 ", dt.datetime(2024, 5, 1, 12, 30, 0, 250000, tzinfo=UTC)),
])
def test_parse_time_accepts_iso_and_defaults_to_utc(text, expected):
    value = parse_time(text)
    assert value == expected and value.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "", "1714566600"])
def test_parse_time_names_the_bad_value(text):
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_time(text)


def test_kafka_milliseconds_round_trip():
    when = dt.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    assert to_ms(when) == 1714566600123
    assert from_ms(to_ms(when)) == when
    assert to_ms(parse_time("2024-05-01T14:30:00.123+02:00")) == 1714566600123


# ---- headers ----------------------------------------------------------------------------------

def test_replay_keeps_the_original_headers_and_drops_the_dead_letter_ones():
    record = sink_dead_letter(7, extra=(("trace-id", b"abc"), ("pssync.origin", None), ("trace-id", b"def")))
    headers = replay_headers(record.headers, DLQ, 0, 7)
    assert headers == [("trace-id", b"abc"), ("pssync.origin", None), ("trace-id", b"def"),
                       (REPLAYED_FROM, f"{DLQ}:0:7".encode())]


def test_a_replay_dead_lettered_again_names_only_its_newest_source():
    again = sink_dead_letter(9, extra=(("trace-id", b"abc"), (REPLAYED_FROM, f"{DLQ}:0:7".encode())))
    assert again.replayed_from == f"{DLQ}:0:7"
    assert replay_headers(again.headers, DLQ, 0, 9) == [("trace-id", b"abc"), (REPLAYED_FROM, f"{DLQ}:0:9".encode())]
    assert replay_headers(None, "x", 1, 2) == [(REPLAYED_FROM, b"x:1:2")]


def test_dead_letter_fields_come_from_the_headers_the_last_one_winning():
    record = sink_dead_letter(3, extra=(("__connect.errors.exception.message", b"an older reason"),))
    assert (record.original_topic, record.original_partition, record.original_offset) == ("pssync.commands.shop", 2, 41)
    assert record.sink == "shop-db-prestashop" and record.error_class == "PermanentFailure"
    assert record.reason == "no order 999 (REF999) in ps_orders"
    assert record.origin == "pssync.commands.shop[2]@41"
    shown = record.as_dict()
    assert shown["offset"] == 3 and shown["key"] == "REF999" and shown["timestamp"] == "2024-05-01T12:00:03+00:00"
    assert shown["value_preview"] == '{"type": "order_state"}' and shown["value_bytes"] == 23
    assert shown["headers"]["pssync.sink"] == "shop-db-prestashop"


def test_origin_of_the_processors_and_the_captures_dead_letters():
    processor = DeadLetter("pssync.streams.dead-letter", 0, 0, None, b"erp.stock", b"{}",
                           (("__connect.errors.exception.message", b"KeyError: 'sku'"),
                            ("__connect.errors.topic", b"erp.stock")))
    assert processor.origin == "erp.stock" and processor.original_partition is None
    capture = DeadLetter("pssync.cdc.dead-letter", 0, 0, None, b"ps_orders", b"{}",
                         (("__connect.errors.exception.class.name", b"BadValue"),
                          ("__connect.errors.table", b"ps_orders"),
                          ("__connect.errors.position", b"mariadb-bin.000001:4")))
    assert capture.origin == "table ps_orders at mariadb-bin.000001:4" and capture.reason is None
    assert DeadLetter("x", 0, 0, None, None, None).origin == "?"


def test_dead_letter_from_a_message():
    class Msg:
        def __init__(self, kind: int) -> None:
            self.kind = kind

        def topic(self): return DLQ
        def partition(self): return 1
        def offset(self): return 5
        def timestamp(self): return self.kind, 1714566600123
        def key(self): return None
        def value(self): return b"v"
        def headers(self): return None

    record = _dead_letter(Msg(TIMESTAMP_CREATE_TIME))
    assert record.timestamp == dt.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    assert record.headers == () and record.position == (1, 5)
    assert _dead_letter(Msg(TIMESTAMP_NOT_AVAILABLE)).timestamp is None


# ---- previews ---------------------------------------------------------------------------------

def test_preview_shows_text_on_one_line_and_binary_as_hex():
    assert preview(None) == "(null)"
    assert preview(b'{"a":\n  1}') == '{"a": 1}'
    assert preview(b"x" * 100, 10) == "x" * 9 + "…"
    assert preview(b"\x00\x01\x02") == "0x000102"
    assert preview(bytes(range(200)), 8) == "0x00010203…"
    assert preview("café".encode()) == "café"
    assert preview(b"\xff\xfe") == "0xfffe"


# ---- what may be replayed ---------------------------------------------------------------------

def test_replay_target_is_the_original_topic_and_partition():
    assert replay_target(sink_dead_letter(0)) == ("pssync.commands.shop", 2)


def test_a_record_without_its_original_topic_is_refused():
    with pytest.raises(Refused, match=r"^pssync.sinks.dead-letter:0:4: no __connect.errors.topic header"):
        replay_target(sink_dead_letter(4, **{"__connect.errors.topic": None}))
    with pytest.raises(Refused, match="no __connect.errors.topic header"):
        replay_target(sink_dead_letter(4, **{"__connect.errors.topic": b"  "}))


def test_the_processors_envelopes_are_refused_even_with_a_topic_header():
    """The processors' dead letters (streams/outputs.py) name the input topic but the value is an envelope."""
    envelope = DeadLetter("pssync.streams.dead-letter", 0, 3, None, b"erp.stock", b'{"source": "erp.stock"}',
                          (("__connect.errors.exception.message", b"boom"), ("__connect.errors.topic", b"erp.stock")))
    with pytest.raises(Refused, match="not a copy of a consumed erp.stock record"):
        replay_target(envelope)


def test_odd_original_topics_are_refused():
    with pytest.raises(Refused, match="is not a topic name"):
        replay_target(sink_dead_letter(1, **{"__connect.errors.topic": b"cmds[0]@5"}))
    with pytest.raises(Refused, match="the dead-letter topic itself"):
        replay_target(sink_dead_letter(1, **{"__connect.errors.topic": DLQ.encode()}))
    with pytest.raises(Refused, match="not a copy"):
        replay_target(sink_dead_letter(1, **{"__connect.errors.offset": b"not-a-number"}))


# ---- selection --------------------------------------------------------------------------------

def test_parse_positions():
    assert parse_positions(["5"]) == [(0, 5)]
    assert parse_positions(["5", "1:7", "2,3", "5"], default_partition=2) == [(1, 7), (2, 2), (2, 3), (2, 5)]
    for bad in (["x"], ["1:"], ["-1"], ["1:-2"], ["a:1"]):
        with pytest.raises(ValueError):
            parse_positions(bad)


def test_select_by_offsets_reports_the_missing_ones_and_keeps_dead_letter_order():
    records = [sink_dead_letter(o) for o in (4, 2, 3)] + [sink_dead_letter(2, partition=1)]
    chosen, missing = select(records, [(0, 4), (0, 2), (0, 9), (1, 2)])
    assert [r.position for r in chosen] == [(0, 2), (0, 4), (1, 2)]
    assert missing == [(0, 9)]


def test_select_all_and_the_wrong_combinations():
    records = [sink_dead_letter(o) for o in (1, 0)]
    chosen, missing = select(records, everything=True)
    assert [r.offset for r in chosen] == [0, 1] and missing == []
    with pytest.raises(ValueError):
        select(records, [(0, 1)], everything=True)
    with pytest.raises(ValueError):
        select(records)
    with pytest.raises(ValueError):
        select(records, [])


def test_newest_keeps_the_last_n_oldest_first():
    t = dt.datetime(2024, 5, 1, tzinfo=UTC)
    records = [sink_dead_letter(o, ts=t + dt.timedelta(seconds=10 - o)) for o in range(5)]
    assert [r.offset for r in newest(records, 2)] == [1, 0]
    assert [r.offset for r in newest(records, None)] == [4, 3, 2, 1, 0]
    assert newest(records, 0) == []
    untimed = DeadLetter(DLQ, 0, 9, None, None, None)
    assert newest([records[0], untimed], None)[0] is untimed


def test_window_bounds_clamp_to_what_the_partition_holds():
    assert window_bounds(0, 10) == (0, 10)
    assert window_bounds(5, 10, start=2) == (5, 10)           # expired by retention
    assert window_bounds(0, 10, start=3, end=7) == (3, 7)
    assert window_bounds(0, 10, start=3, end=70) == (3, 10)   # end: at most the high watermark
    assert window_bounds(0, 10, start=8, end=4) == (8, 8)     # empty, never negative
    assert window_bounds(0, 10, start=12) == (12, 12)
