"""The Infor M3 adapter over real sockets against the local ION/M3-shaped server
(tests/vendor_servers/infor_m3.py: follows Infor's published docs, is not Infor M3)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from decimal import Decimal

import pytest

from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError, UnknownProduct
from pssync.erp.infor import IONAPI_FIELDS, InforAdapter
from pssync.erp.registry import build_adapter
from pssync.settings import ConfigError
from tests.vendor_servers.infor_m3 import InforM3Server
from tests.vendor_servers.orders import sample_order

SASK = "svc-secret-key"
CS = "ion-s3cret"
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
EXECUTE = "/M3/m3api-rest/v2/execute/"


@pytest.fixture()
def server():
    srv = InforM3Server(cs=CS, sask=SASK).start()
    srv.add_item("HC-100", "Hummingbird cushion", T0)
    srv.add_item("HC-200", "Mug", T0)
    yield srv
    srv.stop()


def options(server: InforM3Server, **overrides) -> dict:
    fields = {k: v for k, v in server.ionapi().items() if k in IONAPI_FIELDS}
    base = dict(fields, customer_number="SHOP01", order_type="WEB", facility="A01",
                warehouse="100", price_list="WEB", timeout=2.0, retry_base_delay=0.05)
    base.update(overrides)
    return base


@pytest.fixture()
def adapter(server):
    erp = build_adapter("infor", options(server))
    yield erp
    erp.close()


def test_settings_from_ionapi_file_or_fields(server, tmp_path):
    path = tmp_path / "pssync.ionapi"
    path.write_text(json.dumps(server.ionapi()))
    from_file = build_adapter("infor", dict(ionapi_file=str(path), customer_number="SHOP01",
                                            order_type="WEB", facility="A01", warehouse="100"))
    try:
        assert isinstance(from_file, InforAdapter)
        assert from_file.find_sales_order("NOPE") is None       # authenticated with file creds
        assert from_file.settings.token_endpoint() == server.url + server.token_path
    finally:
        from_file.close()
    fields = options(server)
    del fields["sask"]
    with pytest.raises(ConfigError, match="sask"):
        build_adapter("infor", fields)
    with pytest.raises(ConfigError, match=r"erp\.infor\.transactions\.confirm"):
        build_adapter("infor", options(server, transactions={"confirm": "Confirm"}))


def test_create_sales_order_is_idempotent(server, adapter):
    first = adapter.create_sales_order(sample_order("REF000001"))
    second = adapter.create_sales_order(sample_order("REF000001"))
    assert first.created is True and second.created is False
    assert first.erp_order_id == second.erp_order_id
    [order] = server.orders_with_reference("REF000001")
    assert order["ORNO"] == first.erp_order_id
    assert [(ln["ITNO"], ln["ORQT"], ln["SAPR"]) for ln in order["lines"]] == [
        ("HC-100", "2", "19.9"), ("HC-200", "1", "5")]
    assert order["addresses"][0]["TOWN"] == "Paris"
    assert server.count("AddBatchHead") == 1 and server.count("Confirm") == 1
    assert adapter.find_sales_order("REF000001") == first.erp_order_id


def test_cancel(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000002"))
    assert adapter.cancel_sales_order("REF000002") == created.erp_order_id
    assert server.orders[created.erp_order_id]["ORST"] == "90"
    with pytest.raises(NotFound):
        adapter.cancel_sales_order("UNKNOWN01")


def test_changes_share_a_timestamp_and_page(server, adapter):
    t1, t2, t3 = (T0 + dt.timedelta(minutes=m) for m in (5, 6, 7))
    server.add_balance("B-1", "5", t2)
    server.add_balance("A-1", "3", t1)
    server.add_balance("C-1", "7", t2)                         # same LMTS as B-1
    server.add_balance("C-1", "1", t2, location="B-02", allocated="2")
    server.add_balance("D-1", "9", t3)
    first = adapter.changes("stock", None, "", limit=2)
    assert [(c.key, c.record.quantity) for c in first] == [("A-1", Decimal(3)), ("B-1", Decimal(5))]
    rest = adapter.changes("stock", first[-1].ts, first[-1].row_id, limit=2)
    assert [(c.key, c.record.quantity, c.record.on_hand) for c in rest] == [
        ("C-1", Decimal(6), Decimal(8)), ("D-1", Decimal(9), Decimal(9))]
    assert rest[0].ts == first[-1].ts
    assert adapter.changes("stock", rest[-1].ts, rest[-1].row_id) == []
    assert server.count("LstBalID") == 3
    assert all(c.query.get("maxrecs") == "0" for c in server.calls)


def test_status_price_product_and_shipment_changes(server, adapter):
    server.add_item("HC-300", "Retired", T0 + dt.timedelta(minutes=1), active=False)
    products = adapter.changes("product", T0, "HC-200")   # after the last row at T0
    assert [(c.key, c.record.active) for c in products] == [("HC-300", False)]
    server.add_price("HC-100", "19.90", T0)
    server.add_price("HC-200", "5.00", T0)
    prices = adapter.changes("price", None, "")
    assert [(c.key, c.record.list_price, c.record.currency) for c in prices] == [
        ("HC-100", Decimal("19.90"), "EUR"), ("HC-200", Decimal("5.00"), "EUR")]
    created = adapter.create_sales_order(sample_order("REF000003"))
    [status] = adapter.changes("order_status", None, "")
    assert (status.key, status.record.shop_reference, status.record.state) == (
        created.erp_order_id, "REF000003", "22-22")
    assert status.row_id == created.erp_order_id.zfill(20)
    server.add_delivery(created.erp_order_id, "00340434161094015902", server.now())
    server.add_delivery("999999", "NOT-OURS", server.now())
    [shipment] = adapter.changes("shipment", status.ts, status.row_id)
    assert (shipment.record.tracking_number, shipment.record.erp_order_id,
            shipment.record.shop_reference, shipment.record.carrier) == (
        "00340434161094015902", created.erp_order_id, "REF000003", "DHL")


def test_stock_snapshot_pages(server, adapter):
    for n in range(5):
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
    assert server.count("SearchHead") == 2


def test_503_is_retried_and_bounded(server, adapter):
    server.fail_next(2, "503")
    assert adapter.stock_snapshot().levels == []
    assert server.count("LstBalID") == 3
    server.reset_calls()
    server.fail_next(10, "503")
    with pytest.raises(TransientErpError):
        adapter.stock_snapshot()
    assert server.count("LstBalID") == 5                         # RetryPolicy.attempts


def test_transient_failure_mid_create_does_not_duplicate(server, adapter):
    server.fail_next(1, "503", path_contains="/Confirm")
    assert adapter.create_sales_order(sample_order("REF000004")).created is True
    assert len(server.orders_with_reference("REF000004")) == 1
    server.fail_next(1, "lost_reply", path_contains="/Confirm")   # confirmed, reply lost
    assert adapter.create_sales_order(sample_order("REF000007")).created is False
    assert len(server.orders_with_reference("REF000007")) == 1
    assert server.count("/Confirm") == 3


def test_timeout_is_retried(server):
    server.timeout_delay = 1.5
    erp = build_adapter("infor", options(server, timeout=0.5))
    try:
        server.fail_next(1, "timeout")
        assert erp.find_sales_order("NOPE") is None
        assert server.count("SearchHead") == 2
    finally:
        erp.close()


def test_mi_error_is_permanent_with_m3s_message(server, adapter):
    with pytest.raises(PermanentErpError) as info:
        adapter.create_sales_order(sample_order("REF000005", lines=(("HC-100", "0", "1"),)))
    assert not isinstance(info.value, UnknownProduct)
    assert ("Ordered quantity must be greater than zero (field ORQT, code WORQT01)"
            in str(info.value))
    assert server.count("AddBatchLine") == 1
    server.reset_calls()
    server.fail_next(1, "validation")
    with pytest.raises(PermanentErpError, match="Customer number SHOP99 does not exist"):
        adapter.stock_snapshot()
    assert server.count() == 1


def test_unknown_product(server, adapter):
    with pytest.raises(UnknownProduct, match="Item number ZZ-404 does not exist"):
        adapter.create_sales_order(sample_order("REF000006", lines=(("ZZ-404", "1", "1"),)))
    assert server.count("AddBatchLine") == 1
    assert server.orders_with_reference("REF000006") == []


def test_wrong_credentials_and_secrets_never_show(server, caplog):
    caplog.set_level(logging.DEBUG)
    erp = build_adapter("infor", options(server, sask="wrong-" + SASK))
    try:
        with pytest.raises(PermanentErpError) as info:
            erp.find_sales_order("NOPE")
        assert info.value.code == "auth"
        for secret in (SASK, CS):
            assert secret not in str(info.value)
            assert secret not in repr(erp.settings) and secret not in str(erp.settings)
    finally:
        erp.close()
    good = build_adapter("infor", options(server))
    try:
        server.fail_next(1, "503")
        good.find_sales_order("NOPE")
    finally:
        good.close()
    assert "retry" in caplog.text
    assert SASK not in caplog.text and CS not in caplog.text
