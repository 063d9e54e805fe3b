"""What only the Infor M3 adapter does, over real sockets against the local ION/M3-shaped server
(tests/vendor_servers/infor_m3.py: follows Infor's published docs, is not Infor M3): the .ionapi
credentials, the order batch transactions, M3 field mapping. What every adapter promises is in
tests/integration/erp/contract/ (run there against this server)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pssync.erp.infor import InforAdapter
from pssync.erp.registry import build_adapter
from pssync.settings import ConfigError
from tests.integration.erp.subjects import INFOR_CS, INFOR_SASK, infor_options as options
from tests.vendor_servers.infor_m3 import InforM3Server
from tests.vendor_servers.orders import sample_order

pytestmark = pytest.mark.integration

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture()
def server():
    srv = InforM3Server(cs=INFOR_CS, sask=INFOR_SASK).start()
    srv.add_item("HC-100", "Hummingbird cushion", T0)
    srv.add_item("HC-200", "Mug", T0)
    yield srv
    srv.stop()


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


def test_the_order_is_one_batch_of_the_documented_transactions(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000001"))
    [order] = server.orders_with_reference("REF000001")
    assert order["ORNO"] == created.erp_order_id and order["CUNO"] == "SHOP01"
    assert [(ln["ITNO"], ln["ORQT"], ln["SAPR"]) for ln in order["lines"]] == [
        ("HC-100", "2", "19.9"), ("HC-200", "1", "5")]
    assert order["addresses"][0]["TOWN"] == "Paris"
    assert server.count("AddBatchHead") == 1 and server.count("Confirm") == 1


def test_a_transient_failure_between_batch_steps_does_not_duplicate(server, adapter):
    server.fail_next(1, "503", path_contains="/Confirm")       # the batch stays unconfirmed
    assert adapter.create_sales_order(sample_order("REF000004")).created is True
    assert len(server.orders_with_reference("REF000004")) == 1
    assert server.count("AddBatchHead") == 2 and server.count("/Confirm") == 2


def test_stock_is_summed_over_balance_identities_and_lists_are_unlimited(server, adapter):
    server.add_balance("C-1", "7", T0)
    server.add_balance("C-1", "1", T0, location="B-02", allocated="2")
    [change] = adapter.changes("stock", None, "")
    assert (change.key, change.record.quantity, change.record.on_hand) == (
        "C-1", Decimal(6), Decimal(8))                          # (7 + 1) on hand - 2 allocated
    [level] = adapter.stock_snapshot().levels
    assert (level.quantity, level.on_hand) == (Decimal(6), Decimal(8))
    assert all(c.query.get("maxrecs") == "0" for c in server.calls)   # not M3's default 100


def test_m3_fields_map_to_records(server, adapter):
    server.add_item("HC-300", "Retired", T0 + dt.timedelta(minutes=1), active=False)
    products = adapter.changes("product", T0, "HC-200")         # after the last row at T0
    assert [(c.key, c.record.active) for c in products] == [("HC-300", False)]   # STAT 90
    server.add_price("HC-100", "19.90", T0)
    [price] = adapter.changes("price", None, "")
    assert (price.key, price.record.list_price, price.record.currency) == (
        "HC-100", Decimal("19.90"), "EUR")
    created = adapter.create_sales_order(sample_order("REF000003"))
    [status] = adapter.changes("order_status", None, "")
    assert status.record.state == "22-22"                       # lowest-highest line status
    assert status.row_id == created.erp_order_id.zfill(20)
    server.add_delivery(created.erp_order_id, "00340434161094015902", server.now())
    server.add_delivery("999999", "NOT-OURS", server.now())     # no order of this customer
    [shipment] = adapter.changes("shipment", status.ts, status.row_id)
    assert (shipment.record.tracking_number, shipment.record.carrier,
            shipment.record.state) == ("00340434161094015902", "DHL", "60")
