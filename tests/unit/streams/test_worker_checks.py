"""Start-up checks of `pssync streams worker` that need no broker."""
from pssync.settings import Settings
from streams.cli import partitioned, source_topics


def test_source_topics_cover_capture_erp_and_acknowledgements():
    settings = Settings(capture={"tables": ["orders", "order_detail"], "extra_tables": ["pssync_product_map"]})
    topics = source_topics(settings)
    assert "pssync.prestashop.ps_orders" in topics and "pssync.prestashop.pssync_product_map" in topics
    assert "erp.stock" in topics and settings.sinks.acks_topic in topics


def test_multi_partition_sources_are_named():
    assert partitioned({"a": 1, "b": 3, "other": 6}, ["a", "b", "missing"]) == ["b (3 partitions)"]
    assert partitioned({}, ["a"]) == []
