"""The ERP capture writes a key's values once: a new version of a source row whose record says
what the topic already says for that key (same level, same price, same state) is not written
again, across restarts; full stock snapshots still write everything.

No Kafka here: the poller runs against a fake adapter feed and a fake transactional producer
whose committed offsets-topic records are what a restarted poller reads back."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.erp.base import Change, OrderStatus, Price, StockLevel, StockPage
from pssync.erp.poller import ErpPoller
from pssync.erp.topics import record_value, topic_name
from pssync.settings import Settings

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 12, 2, 5, 53, 15, tzinfo=UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class FeedAdapter:
    """Change feeds as lists of changes; ``changes`` answers the keyset question like an adapter."""
    name = "fake"

    def __init__(self) -> None:
        self.rows: dict[str, list[Change]] = {}
        self.snapshot: list[StockLevel] = []

    def put(self, change: Change) -> None:
        """A new version of a source row replaces the old one (as a write does in the ERP)."""
        rows = [c for c in self.rows.get(change.kind, []) if c.row_id != change.row_id]
        self.rows[change.kind] = [*rows, change]

    def changes(self, kind, since, after_id, limit=500):
        rows = sorted(self.rows.get(kind, []), key=lambda c: (c.ts, c.row_id))
        return [c for c in rows if since is None or (c.ts, c.row_id) > (since, after_id)][:limit]

    def stock_snapshot(self, page=None, page_size=500):
        return StockPage(list(self.snapshot), None)

    def close(self) -> None:
        pass


class FakeProducer:
    def __init__(self) -> None:
        self.committed: list[tuple[str, bytes, object]] = []
        self._open: list[tuple[str, bytes, object]] | None = None

    def begin_transaction(self) -> None:
        self._open = []

    def produce(self, topic, key=None, value=None) -> None:
        assert self._open is not None, "produce outside a transaction"
        self._open.append((topic, key, value))

    def commit_transaction(self) -> None:
        assert self._open is not None
        self.committed += self._open
        self._open = None

    def abort_transaction(self, timeout=None) -> None:
        self._open = None

    def flush(self, timeout=None) -> None:
        pass

    def compacted(self, topic: str) -> dict[bytes, bytes | None]:
        """What read_compacted returns for ``topic``: the last value of every key."""
        return {key: value for t, key, value in self.committed if t == topic}

    def events(self, topic: str) -> list[dict]:
        return [value for t, _, value in self.committed if t == topic]


class FakeEncoders:
    def encode(self, change, erp, part=None):
        return (topic_name("", change.kind), change.key.encode(),
                record_value(change.record, erp, change.version, part))


def settings() -> Settings:
    s = Settings()
    s.erp.name = "unit"
    s.erp.offsets_topic = "unit.erp.offsets"
    s.erp.kinds = ["stock", "price", "order_status"]
    return s


def poller(adapter: FeedAdapter, producer: FakeProducer, cfg: Settings | None = None) -> ErpPoller:
    """A poller as prepare() leaves it, its state read back from what ``producer`` committed."""
    cfg = cfg or settings()
    p = ErpPoller(cfg, adapter, registry=object())
    p._producer, p._encoders = producer, FakeEncoders()
    p.restore(producer.compacted(cfg.erp.offsets_topic))
    return p


PRODUCT_IDS = {"SKU-1": "56", "SKU-2": "57"}


def move(move_id: int, ts: dt.datetime, available: str, on_hand: str, measured: dt.datetime,
         sku: str = "SKU-1", warehouse: str = "1") -> Change:
    """A stock.move version as the Tryton feed gives it: the product's level measured at poll time."""
    level = StockLevel(sku, PRODUCT_IDS[sku], Decimal(available), warehouse, measured, Decimal(on_hand))
    return Change("stock", sku, level, ts, f"{move_id:012d}", f"stock.move:{move_id}:{ts.isoformat()}")


def levels(producer: FakeProducer) -> list[tuple[str, Decimal, Decimal]]:
    return [(e["sku"], e["quantity"], e["on_hand"]) for e in producer.events("erp.stock")]


def test_a_move_seen_before_and_after_do_writes_its_unchanged_level_once():
    # what the CI run hit: a poll read stock.move 68 at its create version while `do` was being
    # committed, and measured the product after the commit; the next poll read the done version
    # (new write_date, new version) and measured the same level again
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)
    adapter.put(move(68, at(0.45), "4", "4", measured=at(0.52)))
    assert p.poll_once("stock") == 1
    adapter.put(move(68, at(0.50), "4", "4", measured=at(0.85)))
    assert p.poll_once("stock") == 1          # read (the cursor moves past it) but not written
    assert levels(producer) == [("SKU-1", Decimal("4.0000"), Decimal("4.0000"))]
    assert p.cursors["stock"].ts == at(0.50)
    assert p.poll_once("stock") == 0


def test_a_level_that_differs_in_any_value_is_written():
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)
    for i, (available, on_hand, warehouse) in enumerate(
            [("4", "0", "1"), ("4", "4", "1"), ("3", "4", "1"), ("3", "4", "2"), ("4", "0", "1")]):
        adapter.put(move(70 + i, at(i), available, on_hand, at(i + 0.5), warehouse=warehouse))
        p.poll_once("stock")
    assert [(q, h) for _, q, h in levels(producer)] == [
        (Decimal(a), Decimal(h)) for a, h in [("4", "0"), ("4", "4"), ("3", "4"), ("3", "4"), ("4", "0")]]
    assert [e["warehouse"] for e in producer.events("erp.stock")] == ["1", "1", "1", "2", "1"]


def test_moves_of_one_product_in_one_page_write_its_level_once_and_other_products_still_count():
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)
    adapter.put(move(1, at(1), "7", "7", at(5)))
    adapter.put(move(2, at(2), "7", "7", at(5)))
    adapter.put(move(3, at(3), "7", "7", at(5), sku="SKU-2"))
    assert p.poll_once("stock") == 3
    assert levels(producer) == [("SKU-1", Decimal("7.0000"), Decimal("7.0000")),
                                ("SKU-2", Decimal("7.0000"), Decimal("7.0000"))]


def test_a_restarted_poller_neither_repeats_nor_loses_a_level():
    adapter, producer = FeedAdapter(), FakeProducer()
    first = poller(adapter, producer)
    adapter.put(move(1, at(1), "4", "4", at(2)))
    first.poll_once("stock")
    # stopped here; the move is written again without changing the level, then stock arrives
    adapter.put(move(1, at(3), "4", "4", at(4)))
    again = poller(adapter, producer)
    assert again.poll_once("stock") == 1
    assert levels(producer) == [("SKU-1", Decimal("4.0000"), Decimal("4.0000"))]
    adapter.put(move(2, at(5), "5", "5", at(6)))
    poller(adapter, producer).poll_once("stock")
    assert [q for _, q, _ in levels(producer)] == [Decimal(4), Decimal(5)]


def test_what_was_not_committed_is_not_remembered():
    class Failing(FakeProducer):
        fail = True

        def commit_transaction(self) -> None:
            if self.fail:
                self.fail = False
                from confluent_kafka import KafkaException
                raise KafkaException("broker gone")
            super().commit_transaction()

    adapter, producer = FeedAdapter(), Failing()
    p = poller(adapter, producer)
    adapter.put(move(1, at(1), "4", "4", at(2)))
    try:
        p.poll_once("stock")
    except Exception:
        pass
    assert p.poll_once("stock") == 1       # tried again, and written this time
    assert levels(producer) == [("SKU-1", Decimal("4.0000"), Decimal("4.0000"))]


def test_snapshots_write_every_level_and_later_changes_compare_with_them():
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)
    adapter.put(move(1, at(1), "4", "4", at(2)))
    p.poll_once("stock")
    # the snapshot says 6 (the delta above was wrong, or a change was missed); written in full,
    # twice, although the second one repeats the first
    adapter.snapshot = [StockLevel("SKU-1", "56", Decimal(6), "1", at(10), Decimal(6)),
                        StockLevel("SKU-2", "57", Decimal(0), "1", at(10), Decimal(0))]
    p.snapshot_stock()
    p.snapshot_stock()
    assert [(e["sku"], e["mode"]) for e in producer.events("erp.stock")] == [
        ("SKU-1", "delta"), ("SKU-1", "snapshot"), ("SKU-2", "snapshot"),
        ("SKU-1", "snapshot"), ("SKU-2", "snapshot")]
    # a move bringing the level back to 4: the topic says 6, so 4 is news and is written
    adapter.put(move(2, at(11), "4", "4", at(12)))
    # a move leaving SKU-2 at the snapshot's 0: nothing new
    adapter.put(move(3, at(11), "0", "0", at(12), sku="SKU-2"))
    restarted = poller(adapter, producer)
    restarted.poll_once("stock")
    assert [(e["sku"], e["quantity"], e["mode"]) for e in producer.events("erp.stock")][-1:] == [
        ("SKU-1", Decimal("4.0000"), "delta")]
    assert len(producer.events("erp.stock")) == 6


def test_a_write_that_leaves_the_price_alone_writes_no_price_event():
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)

    def template_write(ts: dt.datetime, price: str) -> Change:
        return Change("price", "SKU-1", Price("SKU-1", "56", Decimal(price), "EUR", ts), ts,
                      "t000000000011", f"product.template:11:{ts.isoformat()}:56")
    adapter.put(template_write(at(1), "20.00"))
    p.poll_once("price")
    adapter.put(template_write(at(2), "20.00"))     # e.g. the name changed
    p.poll_once("price")
    adapter.put(template_write(at(3), "21.75"))
    p.poll_once("price")
    assert [(e["list_price"], e["changed_at"]) for e in producer.events("erp.prices")] == [
        (Decimal("20.000000"), int(at(1).timestamp() * 1000)), (Decimal("21.750000"), int(at(3).timestamp() * 1000))]


def test_an_order_state_is_written_once_per_change_of_state():
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer)
    for seconds, state in [(1, "confirmed"), (2, "confirmed"), (3, "processing"), (4, "processing"),
                           (5, "confirmed")]:
        ts = at(seconds)
        adapter.put(Change("order_status", "9", OrderStatus("9", "PS-1", state, ts), ts, "000000000009",
                           f"sale.sale:9:{ts.isoformat()}"))
        p.poll_once("order_status")
    assert [e["state"] for e in producer.events("erp.order_status")] == ["confirmed", "processing", "confirmed"]



def test_last_written_values_are_forgotten_after_the_retention():
    cfg = settings()
    cfg.erp.last_emitted_days = 1
    adapter, producer = FeedAdapter(), FakeProducer()
    p = poller(adapter, producer, cfg)
    adapter.put(move(1, at(0), "4", "4", at(1)))
    adapter.put(move(2, at(0), "9", "9", at(1), sku="SKU-2"))
    p.poll_once("stock")
    later = dt.timedelta(days=1, hours=2)
    adapter.put(move(3, at(0) + later, "5", "5", at(1) + later, sku="SKU-2"))
    p.poll_once("stock")
    # SKU-1 has not been written for more than a day: its entry was removed (a tombstone), so the
    # state kept stays bounded by what changed within the retention
    state = producer.compacted(cfg.erp.offsets_topic)
    assert state[b"unit:stock:emitted:SKU-1"] is None
    assert state[b"unit:stock:emitted:SKU-2"] is not None
    assert "SKU-1" not in poller(adapter, producer, cfg).emitted["stock"]
    # a write of SKU-1's move now writes its level again (once), as before this rule existed
    adapter.put(move(1, at(2) + later, "4", "4", at(3) + later))
    p.poll_once("stock")
    p.poll_once("stock")
    assert [e["sku"] for e in producer.events("erp.stock")] == ["SKU-1", "SKU-2", "SKU-2", "SKU-1"]
