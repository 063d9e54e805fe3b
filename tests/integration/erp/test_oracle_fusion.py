"""What only the Oracle Fusion adapter does, over real sockets against the local Oracle-shaped
server (tests/vendor_servers/oracle_fusion.py: follows Oracle's published REST docs, is not
Oracle): settings, the documented order and cancel bodies, field mapping, the OAuth token. What
every adapter promises is in tests/integration/erp/contract/ (run there against this server)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pssync.erp.oracle_fusion import OracleFusionAdapter
from pssync.erp.registry import build_adapter
from pssync.settings import ConfigError
from tests.integration.erp.subjects import ORACLE_SECRET, oracle_options as options
from tests.vendor_servers.oracle_fusion import OracleFusionServer
from tests.vendor_servers.orders import sample_order

pytestmark = pytest.mark.integration

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture()
def server():
    srv = OracleFusionServer(client_secret=ORACLE_SECRET).start()
    srv.add_item("HC-100", "Hummingbird cushion", "19.90", T0)
    srv.add_item("HC-200", "Mug", "5.00", T0)
    yield srv
    srv.stop()


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


def test_the_order_reaches_order_management_with_the_documented_fields(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000001"))
    order = server.orders[int(created.erp_order_id)]
    assert (order["SourceTransactionNumber"], order["SourceTransactionId"],
            order["SourceTransactionSystem"]) == ("REF000001", "REF000001", "PSSHOP")
    assert order["BuyingPartyNumber"] == "PS-CUST-42"          # the shop customer's id
    assert order["BusinessUnitName"] == "Vision Operations" and order["SubmittedFlag"] is True
    lines = [(ln["ProductNumber"], ln["OrderedQuantity"], ln["UnitListPrice"])
             for ln in order["lines"]]
    assert lines == [("HC-100", 2.0, 19.9), ("HC-200", 1.0, 5.0)]


def test_cancel_is_one_cancel_action_request(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000003"))
    adapter.cancel_sales_order("REF000003")
    adapter.cancel_sales_order("REF000003")                   # already CANCELED: not sent again
    [request] = server.action_requests
    assert request["ActionCode"] == "ORA_FOM_CANCEL_ORDER"
    assert request["HeaderId"] == int(created.erp_order_id)


def test_oracle_fields_map_to_records(server, adapter):
    server.add_balance("HC-100", "12", T0 + dt.timedelta(minutes=1), reserved="2")
    stock = adapter.changes("stock", T0, "")
    assert [(ch.key, ch.record.quantity, ch.record.on_hand, ch.record.warehouse) for ch in stock] \
        == [("HC-100", Decimal("10.0"), Decimal("12.0"), "M1/Stores")]   # on hand - reserved
    created = adapter.create_sales_order(sample_order("REF000004"))
    [status] = adapter.changes("order_status", None, "")
    assert (status.key, status.record.state) == (created.erp_order_id, "OPEN")
    server.add_shipment(server.orders[int(created.erp_order_id)], "JD0146", server.now())
    [shipment] = adapter.changes("shipment", status.ts, "")
    assert (shipment.record.carrier, shipment.record.state) == ("DHL", "SHIPPED")


def test_expired_token_is_refreshed_once(server, adapter):
    assert adapter.find_sales_order("NOPE") is None
    server.revoke_tokens()
    assert adapter.find_sales_order("NOPE") is None
    assert server.token_requests == 2
