"""streams/retention.py: which orders are forgotten (stale_orders), and the prune requests and
their handling over plain dicts (Retention)."""
from pssync.streams.retention import stale_orders
from pssync.streams.router import partition_for
from pssync.streams.routes import order_key
from tests.unit.streams.hub_support import NOW, Shop, run


def test_orders_last_changed_before_the_cutoff_are_forgotten_in_their_own_partition_only():
    entries = [(1, {"ts_ms": 100}), ("2", {"ts_ms": 500}), (3, {"ts_ms": 99}), (4, {"ts_ms": 50})]
    forget, unstamped = stale_orders(entries, cutoff_ms=200, owned=lambda id_order: id_order != 4)
    assert forget == [1, 3] and unstamped == []


def test_orders_stored_without_a_change_time_get_one_instead_of_being_forgotten():
    forget, unstamped = stale_orders([(7, {"row": {}}), (8, {"ts_ms": 10})], cutoff_ms=200, owned=lambda _: True)
    assert forget == [8] and unstamped == [7]


# ---- streams.retention.Retention over plain dicts ------------------------------------------------------
def shop_with_orders(partitions: int):
    shop = Shop(partitions=partitions, retention_days=90)
    s = shop.state
    for id_order, ts_ms in ((1, 100), (2, 100), (3, 500), (4, None)):
        s.orders[id_order] = {"row": {"id_order": id_order}, "gtid": "g", "sent": [f"cmd-{id_order}"], "awaits": [9],
                              **({} if ts_ms is None else {"ts_ms": ts_ms})}
        s.details[id_order] = {10 + id_order: {"id_order": id_order}}
        s.history[id_order] = {20 + id_order: {"id_order": id_order}}
        s.order_stock[id_order] = {"lines": {}}
        s.emitted[f"cmd-{id_order}"] = True
        s.pending[id_order] = 0
    s.unmapped["0|9"] = [1, 2, 3, 4]
    s.unmapped["1|9"] = [1, 2, 3, 4]
    return shop


def test_a_prune_request_forgets_the_partitions_orders_changed_before_the_cutoff_and_their_marks():
    shop = shop_with_orders(partitions=2)
    assert [partition_for(order_key(i), 2) for i in (1, 2, 3, 4)] == [0, 1, 0, 0]
    run(shop.retention.on_prune(0, {"cutoff_ms": 200}))
    s = shop.state              # 1: forgotten; 2: another partition's; 3: changed since; 4: no change time
    for table in (s.orders, s.details, s.history, s.order_stock, s.pending):
        assert set(table) == {2, 3, 4}
    assert set(s.emitted) == {"cmd-2", "cmd-3", "cmd-4"}
    assert s.unmapped == {"0|9": [2, 3, 4], "1|9": [1, 2, 3, 4]}
    assert s.orders[4]["ts_ms"] == int(NOW.timestamp() * 1000)      # its clock starts now
    assert s.orders[2]["ts_ms"] == 100 and shop.rec.sent == []


def test_each_held_partition_is_asked_with_the_cutoff_and_nothing_when_retention_is_off():
    shop = Shop(retention_days=1)
    run(shop.retention.ask([0, 2]))
    cutoff = int(NOW.timestamp() * 1000) - 86_400_000
    assert [(s.topic, s.key, s.partition, s.kind, s.json) for s in shop.rec.sent] == [
        ("hub:shop", b"*", 0, "prune", {"cutoff_ms": cutoff}), ("hub:shop", b"*", 2, "prune", {"cutoff_ms": cutoff})]
    off = Shop(retention_days=0)
    run(off.retention.ask([0]))
    assert off.rec.sent == []
