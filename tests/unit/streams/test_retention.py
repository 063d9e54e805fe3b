from pssync.streams.retention import stale_orders


def test_orders_last_changed_before_the_cutoff_are_forgotten_in_their_own_partition_only():
    entries = [(1, {"ts_ms": 100}), ("2", {"ts_ms": 500}), (3, {"ts_ms": 99}), (4, {"ts_ms": 50})]
    forget, unstamped = stale_orders(entries, cutoff_ms=200, owned=lambda id_order: id_order != 4)
    assert forget == [1, 3] and unstamped == []


def test_orders_stored_without_a_change_time_get_one_instead_of_being_forgotten():
    forget, unstamped = stale_orders([(7, {"row": {}}), (8, {"ts_ms": 10})], cutoff_ms=200, owned=lambda _: True)
    assert forget == [8] and unstamped == [7]
