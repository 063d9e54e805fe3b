"""The generic REST adapter, configured for a local JSON ERP (tests/vendor_servers/generic_erp.py)
and driven over real sockets."""
from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal

import pytest

from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError, UnknownProduct
from pssync.erp.registry import build_adapter
from pssync.erp.rest import RestAdapter
from pssync.settings import ConfigError
from tests.vendor_servers.generic_erp import GenericErpServer
from tests.vendor_servers.orders import sample_order

SECRET = "acme-s3cret"
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture()
def server():
    srv = GenericErpServer(client_secret=SECRET).start()
    srv.add_stock("HC-100", 10, T0)
    srv.add_stock("HC-200", 4, T0)
    yield srv
    srv.stop()


def config(server: GenericErpServer, **overrides) -> dict:
    base = dict(
        name="acme",
        base_url=server.url + "/api/v1",
        auth={"type": "oauth", "token_url": server.token_url, "client_id": "pssync",
              "client_secret": SECRET},
        endpoints={
            "order_create": "POST /orders",
            "order_find": "GET /orders?reference={shop_reference}",
            "order_cancel": "POST /orders/{erp_order_id}/cancel",
            "stock_snapshot": "GET /stock?cursor={page}&per_page={page_size}",
            "changes.stock": "GET /stock/changes?since={since}&after={after_id}&limit={limit}",
            "changes.order_status":
                "GET /orders/changes?since={since}&after={after_id}&limit={limit}",
        },
        fields={"stock.sku": "item.code", "stock.quantity": "qty_available",
                "stock.on_hand": "qty_on_hand", "stock.ts": "updated_at", "stock.row_id": "id",
                "stock.warehouse": "warehouse",
                "order_status": {"erp_order_id": "id", "state": "status", "ts": "updated_at",
                                 "shop_reference": "reference"}},
        responses={"order_create.id": "data.id", "order_find.id": "data.0.id",
                   "stock_snapshot.next_page": "next_cursor"},
        order_body={"reference": "{shop_reference}", "currency": "{currency}",
                    "customer": {"id": "{customer_id}", "email": "{customer_email}"},
                    "ship_to": {"name": "{shipping_name}", "city": "{shipping_city}",
                                "country": "{shipping_country_code}"},
                    "shipping": "{shipping_cost}", "lines": "{lines}",
                    "note": "Shop order {shop_reference}: {comment}"},
        order_line_body={"sku": "{sku}", "qty": "{quantity}", "price": "{unit_price}"},
        error_message="error.message", error_code="error.code",
        unknown_product_codes=["UNKNOWN_SKU"], timeout=2.0, retry_base_delay=0.05)
    base.update(overrides)
    return base


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


def test_create_sales_order_is_idempotent(server, adapter):
    assert isinstance(adapter, RestAdapter)
    first = adapter.create_sales_order(sample_order("REF000001"))
    second = adapter.create_sales_order(sample_order("REF000001"))
    assert first.created is True and second.created is False
    assert first.erp_order_id == second.erp_order_id
    [order] = server.with_reference("REF000001")
    assert order["lines"] == [{"sku": "HC-100", "qty": 2, "price": 19.9},
                              {"sku": "HC-200", "qty": 1, "price": 5}]
    assert order["customer"] == {"id": "PS-CUST-42", "email": "ada@example.com"}
    assert order["ship_to"] == {"name": "Ada Lovelace", "city": "Paris", "country": "FR"}
    assert order["shipping"] == 4.9
    assert order["note"] == "Shop order REF000001: leave at the door"
    assert server.count("/orders", "POST") == 1
    assert adapter.find_sales_order("REF000001") == first.erp_order_id
    assert adapter.find_sales_order("NOPE") is None


def test_create_whose_reply_was_lost_does_not_duplicate(server, adapter):
    server.fail_next(1, "lost_reply", path_contains="/orders", method="POST")
    assert adapter.create_sales_order(sample_order("REF000009")).created is False
    assert len(server.with_reference("REF000009")) == 1
    assert server.count("/orders", "POST") == 1


def test_cancel(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000002"))
    assert adapter.cancel_sales_order("REF000002") == created.erp_order_id
    assert server.orders[int(created.erp_order_id)]["status"] == "cancelled"
    with pytest.raises(NotFound):
        adapter.cancel_sales_order("UNKNOWN01")


def test_changes_share_a_timestamp_and_page(server, adapter):
    t1, t2, t3 = (T0 + dt.timedelta(minutes=m) for m in (1, 2, 3))
    server.add_stock("A-1", 1, t1)
    server.add_stock("B-1", 2, t2)
    server.add_stock("C-1", 3, t2)                            # same updated_at as B-1
    server.add_stock("D-1", 4, t3)
    first = adapter.changes("stock", T0, "99", limit=2)       # after both T0 rows
    assert [(c.key, c.record.quantity) for c in first] == [("A-1", Decimal(1)),
                                                           ("B-1", Decimal(2))]
    rest = adapter.changes("stock", first[-1].ts, first[-1].row_id, limit=2)
    assert [c.key for c in rest] == ["C-1", "D-1"]
    assert rest[0].ts == first[-1].ts
    assert rest[0].row_id > first[-1].row_id and len(rest[0].row_id) == 20
    assert adapter.changes("stock", rest[-1].ts, rest[-1].row_id) == []
    everything = adapter.changes("stock", None, "", limit=100)
    assert [c.key for c in everything] == ["HC-100", "HC-200", "A-1", "B-1", "C-1", "D-1"]
    assert len({c.version for c in everything}) == 6


def test_order_status_changes(server, adapter):
    created = adapter.create_sales_order(sample_order("REF000003"))
    adapter.cancel_sales_order("REF000003")
    [status] = adapter.changes("order_status", None, "")
    assert (status.key, status.record.state, status.record.shop_reference) == (
        created.erp_order_id, "cancelled", "REF000003")
    with pytest.raises(PermanentErpError, match="endpoints.changes.shipment is not configured"):
        adapter.changes("shipment", None, "")


def test_stock_snapshot_pages(server, adapter):
    for n in range(3):
        server.add_stock(f"S-{n}", n, T0)
    seen, page, pages = [], None, 0
    while True:
        result = adapter.stock_snapshot(page, page_size=2)
        pages += 1
        seen += [level.sku for level in result.levels]
        page = result.next_page
        if page is None:
            break
    assert pages == 3
    assert seen == ["HC-100", "HC-200", "S-0", "S-1", "S-2"]


def test_429_retry_after_is_honoured(server, adapter):
    server.fail_next(1, "429", retry_after="1")
    started = time.monotonic()
    assert adapter.find_sales_order("NOPE") is None
    assert time.monotonic() - started >= 1.0
    assert server.count("/orders") == 2


def test_503_is_retried_and_bounded(server):
    erp = build_adapter("rest", config(server, retry_attempts=3))
    try:
        server.fail_next(2, "503")
        assert len(erp.stock_snapshot().levels) == 2
        assert server.count("/stock") == 3
        server.fail_next(5, "503")
        with pytest.raises(TransientErpError):
            erp.stock_snapshot()
        assert server.count("/stock") == 6
    finally:
        erp.close()


def test_timeout_is_retried(server):
    server.timeout_delay = 1.5
    erp = build_adapter("rest", config(server, timeout=0.5))
    try:
        server.fail_next(1, "timeout")
        assert erp.find_sales_order("NOPE") is None
        assert server.count("/orders") == 2
    finally:
        erp.close()


def test_validation_error_is_permanent_with_the_erps_message(server, adapter):
    with pytest.raises(PermanentErpError) as info:
        adapter.create_sales_order(sample_order("REF000004", lines=(("HC-100", "0", "1"),)))
    assert not isinstance(info.value, UnknownProduct)
    assert "lines[0].qty must be a positive number" in str(info.value)
    assert (info.value.status, info.value.code) == (422, "VALIDATION")
    assert server.count("/orders", "POST") == 1
    server.reset_calls()
    server.fail_next(1, "validation")
    with pytest.raises(PermanentErpError, match="customer.email is not a valid address"):
        adapter.stock_snapshot()
    assert server.count() == 1


def test_unknown_product(server, adapter):
    with pytest.raises(UnknownProduct, match="unknown sku ZZ-404"):
        adapter.create_sales_order(sample_order("REF000005", lines=(("ZZ-404", "1", "1"),)))
    assert server.count("/orders", "POST") == 1
    assert server.with_reference("REF000005") == []


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


@pytest.mark.parametrize("auth, secret_key", [
    ({"type": "oauth", "token_url": "{token_url}", "client_id": "pssync",
      "client_secret": SECRET}, "client_secret"),
    ({"type": "bearer", "token": "static-bearer-t0ken"}, "token"),
    ({"type": "basic", "username": "shop", "password": "basic-pa55"}, "password"),
])
def test_secrets_never_show(server, caplog, auth, secret_key):
    caplog.set_level(logging.DEBUG)
    good = {k: v.format(token_url=server.token_url) for k, v in auth.items()}
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
