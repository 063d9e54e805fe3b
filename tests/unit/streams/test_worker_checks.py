"""Start-up checks of `pssync streams worker` that need no broker."""
from pssync.settings import Settings
from pssync.streams.cli import hub_topics, mismatched


def test_internal_topics_are_named_after_the_capture_and_app_version():
    settings = Settings(capture={"name": "shop1", "tables": ["orders"]})
    assert hub_topics(settings) == ["pssync-streams-shop1-v4-shop-events", "pssync-streams-shop1-v4-stock-events"]


def test_internal_topics_with_another_partition_count_are_named():
    assert mismatched({"a": 1, "b": 3, "other": 6}, ["a", "b", "missing"], 3) == ["a (1 partitions)"]
    assert mismatched({"a": 3}, ["a"], 3) == []
    assert mismatched({}, ["a"], 1) == []
