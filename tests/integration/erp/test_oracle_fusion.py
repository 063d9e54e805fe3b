"""The Oracle Fusion adapter over real sockets against the local Oracle-shaped server
(tests/vendor_servers/oracle_fusion.py: follows Oracle's published REST docs, is not Oracle)."""
from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal

import pytest

from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError, UnknownProduct
from pssync.erp.oracle_fusion import OracleFusionAdapter
from pssync.erp.registry import build_adapter
from pssync.settings import ConfigError
from tests.vendor_servers.oracle_fusion import OracleFusionServer
from tests.vendor_servers.orders import sample_order

SECRET = "fusion-s3cret"
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
ORDERS = "/salesOrdersForOrderHub"


@pytest.fixture()
def server():
    srv = OracleFusionServer(client_secret=SECRET).start()
    srv.add_item("HC-100", "Hummingbird cushion", "19.90", T0)
    srv.add_item("HC-200", "Mug", "5.00", T0)
    yield srv
    srv.stop()


def options(server: OracleFusionServer, **overrides) -> dict:
    base = dict(base_url=server.url, token_url=server.token_url, client_id=server.client_id,
                client_secret=SECRET, scope=server.scope, source_transaction_system="PSSHOP",
                business_unit="Vision Operations", organization_code="M1", timeout=2.0,
                retry_base_delay=0.05)
    base.update(overrides)
    return base


@pytest.fixture()
def adapter(server):
    erp = build_adapter("oracle_fusion", options(server))
    yield erp
    erp.close()


def test_registry_builds_it_and_names_bad_keys(server):
    erp = build_adapter("oracle_fusion", options(server))
    assert isinstance(erp, OracleFusionAdapter)
    erp.close()
    with pytest.raises(ConfigError, match=r"erp\.oracle_fusion\.base_url"):
        build_adapter("oracle_fusion", options(server, base_url="ftp://nope"))
    with pytest.raises(ConfigError, match=r"erp\.oracle_fusion\.organisation_code"):
        build_adapter("oracle_fusion", options(server, organisation_code="M1"))


def test_create_sales_order_is_idempotent(server, adapter):
    first = adapter.create_sales_order(sample_order("REF000001"))
    second = adapter.create_sales_order(sample_order("REF000001"))
    assert first.created is True and second.created is False
    assert first.erp_order_id == second.erp_order_id
    assert len(server.order_by_reference("REF000001")) == 1
    assert server.count(ORDERS, "POST") == 1
    order = server.orders[int(first.erp_order_id)]
    assert order["SourceTransactionSystem"] == "PSSHOP"
    assert order["BuyingPartyNumber"] == "PS-CUST-42"
    lines = [(ln["ProductNumber"], ln["OrderedQuantity"], ln["UnitListPrice"])
             for ln in order["lines"]]
    assert lines == [("HC-100", 2.0, 19.9), ("HC-200", 1.0, 5.0)]
    assert adapter.find_sales_order("REF000001") == first.erp_order_id
    assert adapter.find_sales_order("NOPE") is None


def test_create_whose_reply_was_lost_does_not_duplicate(server, adapter):
    # Oracle: "504 Gateway Timeout: The order request may still be processed" -> look first
    server.fail_next(1, "lost_reply", path_contains=ORDERS, method="POST")
    result = adapter.create_sales_order(sample_order("REF000002"))
    assert result.created is False          # the retry found the order the lost reply created
    assert len(server.order_by_reference("REF000002")) == 1
    assert server.count(ORDERS, "POST") == 1


def test_cancel(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000003"))
    assert adapter.cancel_sales_order("REF000003") == created.erp_order_id
    assert server.orders[int(created.erp_order_id)]["StatusCode"] == "CANCELED"
    [request] = server.action_requests
    assert request["ActionCode"] == "ORA_FOM_CANCEL_ORDER"
    assert request["HeaderId"] == int(created.erp_order_id)
    assert adapter.cancel_sales_order("REF000003") == created.erp_order_id   # already cancelled
    assert len(server.action_requests) == 1
    with pytest.raises(NotFound):
        adapter.cancel_sales_order("UNKNOWN01")


def test_changes_share_a_timestamp_and_page(server):
    t1, t2, t3 = (T0 + dt.timedelta(minutes=m) for m in (5, 6, 7))
    server.add_item("A-1", "a", "1.00", t1)
    b = server.add_item("B-1", "b", "2.00", t2)
    server.add_item("C-1", "c", "3.00", t2)               # same LastUpdateDate as B
    server.add_item("D-1", "d", "4.00", t3)
    erp = build_adapter("oracle_fusion", options(server, page_size=1))   # one row per request
    try:
        first = erp.changes("product", T0 + dt.timedelta(minutes=1), "", limit=2)
        assert [ch.key for ch in first] == ["A-1", "B-1"]
        assert first[1].row_id == str(b["ItemId"]).zfill(20)
        rest = erp.changes("product", first[-1].ts, first[-1].row_id, limit=2)
        assert [ch.key for ch in rest] == ["C-1", "D-1"]
        assert rest[0].ts == first[-1].ts                   # the row sharing B's timestamp
        only_c = erp.changes("product", t2, first[-1].row_id, limit=1)
        assert [ch.key for ch in only_c] == ["C-1"]
        assert erp.changes("product", t3, rest[-1].row_id) == []
        prices = erp.changes("price", t1, "", limit=10)
        assert [(ch.key, ch.record.list_price) for ch in prices] == [
            ("A-1", Decimal("1.0")), ("B-1", Decimal("2.0")), ("C-1", Decimal("3.0")),
            ("D-1", Decimal("4.0"))]
        assert len({ch.version for ch in prices}) == 4
    finally:
        erp.close()


def test_stock_changes_status_and_shipments(server, adapter):
    server.add_balance("HC-100", "12", T0 + dt.timedelta(minutes=1), reserved="2")
    server.add_balance("HC-200", "3", T0 + dt.timedelta(minutes=1))
    stock = adapter.changes("stock", T0, "")
    assert [(ch.key, ch.record.quantity, ch.record.on_hand, ch.record.warehouse) for ch in stock] \
        == [("HC-100", Decimal("10.0"), Decimal("12.0"), "M1/Stores"),
            ("HC-200", Decimal("3.0"), Decimal("3.0"), "M1/Stores")]
    created = adapter.create_sales_order(sample_order("REF000004"))
    [status] = adapter.changes("order_status", None, "")
    assert (status.key, status.record.shop_reference, status.record.state) == (
        created.erp_order_id, "REF000004", "OPEN")
    order = server.orders[int(created.erp_order_id)]
    server.add_shipment(order, "JD014600006281230854", server.now())
    [shipment] = adapter.changes("shipment", status.ts, "")
    assert shipment.record.tracking_number == "JD014600006281230854"
    assert (shipment.record.erp_order_id, shipment.record.shop_reference) == (
        created.erp_order_id, "REF000004")


def test_stock_snapshot_pages(server, adapter):
    for n in range(5):
        server.add_item(f"S-{n}", f"item {n}", "1", T0)
        server.add_balance(f"S-{n}", str(n + 1), T0)
    seen, page, pages = [], None, 0
    while True:
        result = adapter.stock_snapshot(page, page_size=2)
        pages += 1
        seen += [(level.sku, level.quantity) for level in result.levels]
        page = result.next_page
        if page is None:
            break
    assert pages == 3
    assert seen == [(f"S-{n}", Decimal(n + 1)) for n in range(5)]


def test_429_retry_after_is_honoured(server, adapter):
    server.fail_next(1, "429", retry_after="1")
    started = time.monotonic()
    assert adapter.find_sales_order("NOPE") is None
    assert time.monotonic() - started >= 1.0
    assert server.count(ORDERS) == 2


def test_503_is_retried(server, adapter):
    server.add_balance("HC-100", "1", T0)
    server.fail_next(2, "503")
    assert [lv.sku for lv in adapter.stock_snapshot().levels] == ["HC-100"]
    assert server.count("/inventoryOnhandBalances") == 3


def test_503_gives_up_after_bounded_attempts(server):
    erp = build_adapter("oracle_fusion", options(server, retry_attempts=3))
    try:
        server.fail_next(10, "503")
        with pytest.raises(TransientErpError) as info:
            erp.stock_snapshot()
        assert info.value.status == 503
        assert server.count("/inventoryOnhandBalances") == 3
    finally:
        erp.close()


def test_timeout_is_retried(server):
    server.timeout_delay = 1.5
    erp = build_adapter("oracle_fusion", options(server, timeout=0.5))
    try:
        server.fail_next(1, "timeout")
        assert erp.find_sales_order("NOPE") is None
        assert server.count(ORDERS) == 2
    finally:
        erp.close()


def test_validation_error_is_permanent_with_oracles_message(server, adapter):
    bad = sample_order("REF000005", lines=(("HC-100", "0", "1.00"),))
    with pytest.raises(PermanentErpError) as info:
        adapter.create_sales_order(bad)
    assert not isinstance(info.value, UnknownProduct)
    assert "The ordered quantity must be positive. (DOO-2685380)" in str(info.value)
    assert info.value.status == 400 and info.value.code == "DOO-2685380"
    assert server.count(ORDERS, "POST") == 1


def test_validation_switch_is_not_retried(server, adapter):
    server.fail_next(1, "validation")
    with pytest.raises(PermanentErpError, match="BuyingPartyNumber isn't valid"):
        adapter.stock_snapshot()
    assert server.count() == 1


def test_unknown_product(server, adapter):
    with pytest.raises(UnknownProduct, match="ZZ-404"):
        adapter.create_sales_order(sample_order("REF000006", lines=(("ZZ-404", "1", "1"),)))
    assert server.count(ORDERS, "POST") == 1
    server.fail_next(1, "unknown_product")
    with pytest.raises(UnknownProduct):
        adapter.stock_snapshot()


def test_expired_token_is_refreshed_once(server, adapter):
    assert adapter.find_sales_order("NOPE") is None
    server.revoke_tokens()
    assert adapter.find_sales_order("NOPE") is None
    assert server.token_requests == 2


def test_secret_never_shows(server, caplog):
    caplog.set_level(logging.DEBUG)
    erp = build_adapter("oracle_fusion", options(server, client_secret="wrong-" + SECRET))
    try:
        with pytest.raises(PermanentErpError) as info:
            erp.find_sales_order("NOPE")
        assert info.value.code == "auth"
        assert SECRET not in str(info.value) and SECRET not in repr(info.value)
        assert SECRET not in repr(erp.settings) and SECRET not in str(erp.settings.model_dump())
    finally:
        erp.close()
    good = build_adapter("oracle_fusion", options(server))
    try:
        server.fail_next(1, "429", retry_after="0")
        good.find_sales_order("NOPE")
    finally:
        good.close()
    assert "retry" in caplog.text                       # the retry was logged ...
    assert SECRET not in caplog.text                    # ... without the secret
