"""prestashop/webservice.py without a shop: the Webservice client's requests and its error
classification, over httpx.MockTransport."""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from pssync.prestashop.webservice import (PrestashopWebservice, WebserviceRefused, WebserviceUnavailable,
                                          error_message)
from pssync.settings import Settings

KEY = "ZQ8WK3JH9S1XN5BVC7MD2LP4RT6YF0GA"


def settings(url: str = "https://shop.example/api", key: str = KEY, **extra: Any) -> Settings:
    return Settings(capture={"name": "unit"}, sinks={"prestashop_mode": "webservice",
                    "webservice": {"url": url, "key": key, "timeout_s": 2, **extra}})


def client(handler) -> PrestashopWebservice:
    return PrestashopWebservice(settings().sinks.webservice, transport=httpx.MockTransport(handler))


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, (dict, list)):
            return httpx.Response(status, json=body, headers=headers)
        return httpx.Response(status, text=body or "", headers=headers)
    return handler


# ---- the client: requests ---------------------------------------------------------------------------

def test_requests_use_basic_auth_json_output_and_prestashop_filters():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])       # PrestaShop's JSON when nothing matched

    ws = client(handler)
    assert ws.list("stock_availables", filters={"id_product": "[12]", "id_product_attribute": "[0]"}) == []
    ws.list("orders", filters={"date_add": "[2024-05-01 10:00:00,2024-05-02 10:00:00]"}, display="[id]",
            date=True)
    first, second = seen
    assert first.url.path == "/api/stock_availables"
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    query = dict(parse_qsl(first.url.query.decode()))
    assert query == {"display": "full", "filter[id_product]": "[12]", "filter[id_product_attribute]": "[0]",
                     "output_format": "JSON"}
    query = dict(parse_qsl(second.url.query.decode()))
    assert query["date"] == "1" and query["filter[date_add]"] == "[2024-05-01 10:00:00,2024-05-02 10:00:00]"


def test_list_and_record_shapes():
    ws = client(answer(200, {"orders": [{"id": 1, "current_state": "2"}]}))
    assert ws.list("orders") == [{"id": 1, "current_state": "2"}]
    assert client(answer(200, {"order": {"id": 1}})).get("orders", 1) == {"id": 1}
    assert client(answer(200, {"orders": [{"id": 1}]})).get("orders", 1) == {"id": 1}   # display= shape
    with pytest.raises(WebserviceRefused, match="unexpected answer"):
        client(answer(200, {"errors": []})).list("orders")


def test_patch_sends_only_id_and_fields_as_xml():
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        assert request.method == "PATCH" and request.url.path == "/api/stock_availables/42"
        assert request.headers["Content-Type"].startswith("text/xml")
        return httpx.Response(200, json={"stock_available": {"id": 42}})

    client(handler).patch("stock_availables", "stock_available", 42, {"quantity": 7})
    root = ET.fromstring(bodies[0])
    assert root.tag == "prestashop"
    [node] = list(root)
    assert node.tag == "stock_available"
    assert {child.tag: child.text for child in node} == {"id": "42", "quantity": "7"}


# ---- the client: error classification ----------------------------------------------------------------

@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_carry_retry_after(status):
    ws = client(answer(status, "<html><h1>Service Unavailable</h1></html>", {"Retry-After": "7"}))
    with pytest.raises(WebserviceUnavailable) as info:
        ws.get("orders", 1)
    assert info.value.retry_after == 7.0
    assert f"-> {status}" in info.value.reason


def test_timeouts_and_connection_errors_are_transient():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(WebserviceUnavailable, match="timed out") as info:
        client(timeout).list("orders")
    assert info.value.retry_after is None
    with pytest.raises(WebserviceUnavailable, match="ConnectError"):
        client(refused).patch("stock_availables", "stock_available", 1, {"quantity": 1})


def test_non_json_success_is_transient():
    with pytest.raises(WebserviceUnavailable, match="not JSON"):
        client(answer(200, "<html>Maintenance</html>")).list("orders")


@pytest.mark.parametrize("status, body, expected", [
    (401, {"errors": [{"code": 20, "message": "Authentification key is not active"},
                      {"code": 21, "message": "No permission for this authentication key"}]},
     "-> 401: [20] Authentification key is not active; [21] No permission for this authentication key"),
    (401, {"errors": [{"code": 26, "message": 'Resource of type "order_carriers" is not allowed with this '
                                              'authentication key'}]},
     '[26] Resource of type "order_carriers" is not allowed'),
    (403, '<?xml version="1.0" encoding="UTF-8"?><prestashop><errors><error><code><![CDATA[132]]></code>'
          '<message><![CDATA[No permission for this key on this shop]]></message></error></errors></prestashop>',
     "-> 403: [132] No permission for this key on this shop"),
    (404, "", "-> 404: Not Found"),                     # some versions answer 404 with no body at all
    (404, {"errors": [{"code": 87, "message": "Id(s) not exists: 99"}]}, "[87] Id(s) not exists: 99"),
    (400, {"errors": [{"code": 85, "message": 'Validation error: "Property StockAvailable->quantity is not '
                                              'valid"'}]}, "-> 400: [85] Validation error"),
    (405, {"errors": [{"code": 25, "message": "Method PATCH is not allowed for the resource products with "
                                              "this authentication key"}]}, "[25] Method PATCH"),
])
def test_refusals_are_permanent_with_prestashops_message(status, body, expected):
    with pytest.raises(WebserviceRefused) as info:
        client(answer(status, body)).get("orders", 99)
    assert expected in info.value.reason
    assert "PrestaShop Webservice GET orders/99" in info.value.reason
    assert KEY not in info.value.reason


def test_redirect_is_permanent_and_names_the_target():
    ws = client(answer(301, "", {"Location": "https://shop.example/en/api/orders"}))
    with pytest.raises(WebserviceRefused, match="redirected to https://shop.example/en/api/orders"):
        ws.list("orders")


def test_error_message_falls_back_to_the_text():
    response = httpx.Response(418, text="  I'm a teapot \n with\twhitespace ")
    assert error_message(response) == "I'm a teapot with whitespace"


# ---- the applier against the local Webservice server ------------------------------------------------
