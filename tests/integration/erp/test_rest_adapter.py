"""What only the generic REST adapter does, configured for a local JSON ERP
(tests/vendor_servers/generic_erp.py) and driven over real sockets: settings checks naming the bad
key, the order body template, URL templates and row ids, the bearer and basic auth modes. What
every adapter promises is in tests/integration/erp/contract/ (run there against this ERP with
OAuth)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from pssync.erp.errors import PermanentErpError
from pssync.erp.registry import build_adapter
from pssync.erp.rest import RestAdapter
from pssync.settings import ConfigError
from tests.integration.erp.subjects import REST_SECRET, rest_config as config
from tests.vendor_servers.generic_erp import GenericErpServer
from tests.vendor_servers.orders import sample_order

pytestmark = pytest.mark.integration

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture()
def server():
    srv = GenericErpServer(client_secret=REST_SECRET).start()
    srv.add_stock("HC-100", 10, T0)
    srv.add_stock("HC-200", 4, T0)
    yield srv
    srv.stop()


@pytest.fixture()
def adapter(server):
    erp = build_adapter("rest", config(server))
    yield erp
    erp.close()


@pytest.mark.parametrize("change, message", [
    (dict(endpoints={"order_creat": "POST /orders"}), r"endpoints\.order_creat: unknown endpoint"),
    (dict(endpoints={"order_create": "POST /orders", "order_find": "GET /o?r={ref}",
                     "order_cancel": "POST /c", "stock_snapshot": "GET /s"}),
     r"endpoints\.order_find: unknown placeholder\(s\) \{ref\}"),
    (dict(endpoints={"order_create": "FETCH /orders"}), r"endpoints\.order_create: 'FETCH"),
    (dict(endpoints={"order_create": "POST /orders"}), r"endpoints\.order_find: required"),
    (dict(fields={"stock.sku": "item.code", "stock.ts": "updated_at"}),
     r"fields\.stock\.quantity: required"),
    (dict(fields={"stock.sku": "item.code", "stock.qty": "x", "stock.quantity": "q",
                  "stock.ts": "t"}), r"fields\.stock\.qty: unknown field"),
    (dict(fields={"stock.sku": "item..code", "stock.quantity": "q", "stock.ts": "t"}),
     r"fields\.stock\.sku: 'item\.\.code' is not a dotted path"),
    (dict(fields={"stock.sku": "a", "stock.quantity": "q", "stock.ts": "t"}),
     r"fields\.order_status: required because endpoints\.changes\.order_status is set"),
    (dict(order_body={"customer": {"id": "{customer}"}}),
     r"order_body\.customer\.id: unknown placeholder \{customer\}"),
    (dict(order_line_body={"qty": "{qty}"}), r"order_line_body\.qty: unknown placeholder \{qty\}"),
    (dict(responses={"order_create.identifier": "id"}), r"responses\.order_create\.identifier"),
    (dict(auth={"type": "kerberos"}), r"erp\.rest\.auth"),
    (dict(auth={"type": "basic", "username": "u"}), r"erp\.rest\.auth\.basic\.password"),
])
def test_configuration_errors_name_the_bad_key(server, change, message):
    with pytest.raises(ConfigError, match=message):
        build_adapter("rest", config(server, **change))


def test_the_order_body_template_is_rendered_with_json_types(server, adapter):
    assert isinstance(adapter, RestAdapter)
    adapter.create_sales_order(sample_order("REF000001"))
    [order] = server.with_reference("REF000001")
    assert order["lines"] == [{"sku": "HC-100", "qty": 2, "price": 19.9},
                              {"sku": "HC-200", "qty": 1, "price": 5}]
    assert order["customer"] == {"id": "PS-CUST-42", "email": "ada@example.com"}
    assert order["ship_to"] == {"name": "Ada Lovelace", "city": "Paris", "country": "FR"}
    assert order["shipping"] == 4.9
    assert order["note"] == "Shop order REF000001: leave at the door"


def test_numeric_row_ids_are_padded_so_they_sort_as_numbers(server, adapter):
    for n in range(3, 12):                      # ids 3..11 at one timestamp: "9" < "10"
        server.add_stock(f"S-{n}", n, T0 + dt.timedelta(minutes=1))
    pages, cursor = [], (T0 + dt.timedelta(seconds=30), "")
    while page := adapter.changes("stock", cursor[0], cursor[1], limit=1):
        pages += page
        cursor = (page[-1].ts, page[-1].row_id)
    assert [c.key for c in pages] == [f"S-{n}" for n in range(3, 12)]
    assert all(len(c.row_id) == 20 for c in pages)
    everything = adapter.changes("stock", None, "", limit=100)     # since None: all of it
    assert [c.key for c in everything] == ["HC-100", "HC-200", *(f"S-{n}" for n in range(3, 12))]


def test_a_feed_without_an_endpoint_is_a_permanent_error_naming_the_key(server):
    endpoints = {k: v for k, v in config(server)["endpoints"].items() if k != "changes.shipment"}
    erp = build_adapter("rest", config(server, endpoints=endpoints))
    try:
        with pytest.raises(PermanentErpError, match=r"endpoints\.changes\.shipment is not configured"):
            erp.changes("shipment", None, "")
    finally:
        erp.close()


@pytest.mark.parametrize("auth", [
    {"type": "bearer", "token": "static-bearer-t0ken"},
    {"type": "basic", "username": "shop", "password": "basic-pa55"},
])
def test_bearer_and_basic_auth(server, auth):
    erp = build_adapter("rest", config(server, auth=auth))
    try:
        assert erp.find_sales_order("NOPE") is None
        assert server.token_requests == 0
    finally:
        erp.close()


@pytest.mark.parametrize("auth, secret_key", [      # OAuth: in the contract suite
    ({"type": "bearer", "token": "static-bearer-t0ken"}, "token"),
    ({"type": "basic", "username": "shop", "password": "basic-pa55"}, "password"),
])
def test_bearer_and_basic_secrets_never_show(server, caplog, auth, secret_key):
    caplog.set_level(logging.DEBUG)
    good = dict(auth)
    secret = good[secret_key]
    wrong = build_adapter("rest", config(server, auth={**good, secret_key: "wrong-" + secret}))
    try:
        with pytest.raises(PermanentErpError) as info:
            wrong.find_sales_order("NOPE")
        assert info.value.status == 401
        assert secret not in str(info.value)
        assert secret not in repr(wrong.settings) and secret not in str(wrong.settings)
    finally:
        wrong.close()
    right = build_adapter("rest", config(server, auth=good))
    try:
        server.fail_next(1, "503")                 # a logged retry, still without the secret
        assert right.find_sales_order("NOPE") is None
    finally:
        right.close()
    assert "retry" in caplog.text
    assert secret not in caplog.text
