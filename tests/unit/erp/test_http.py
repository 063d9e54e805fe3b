"""erp/http.py as pure logic: Retry-After parsing, error classification, URLs without their
query, the client-credentials flow. httpx.MockTransport stands in for the network here only."""
from __future__ import annotations

import calendar
import os
import time

import httpx
import pytest

from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError
from pssync.erp.http import ClientCredentials, ErpHttp, default_message, parse_retry_after, safe_url
from pssync.retry import RetryPolicy

NOW = calendar.timegm((2015, 10, 21, 7, 28, 0))
NO_RETRY = RetryPolicy(attempts=1)


def erp_http(handler, **kwargs) -> ErpHttp:
    return ErpHttp("acme", "https://erp.example", transport=httpx.MockTransport(handler),
                   retry=kwargs.pop("retry", NO_RETRY), **kwargs)


def answer(status: int, body=None, headers=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, (dict, list)):
            return httpx.Response(status, json=body, headers=headers)
        return httpx.Response(status, text=body or "", headers=headers)
    return handler


# -- parse_retry_after ------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("3", 3.0), (" 120 ", 120.0), ("0", 0.0),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
    ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),          # in the past: no wait, not negative
    (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_minus_zero_zone_is_utc():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 -0000", now=NOW) == 10.0
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- classification ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_transient_statuses(status):
    http = erp_http(answer(status, {"detail": "busy"}, {"Retry-After": "7"}))
    with pytest.raises(TransientErpError) as info:
        http.request("GET", "/x")
    assert info.value.status == status
    assert info.value.retry_after == 7.0
    assert "busy" in str(info.value) and str(info.value).startswith("acme: ")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_permanent_statuses_carry_the_erps_message(status):
    http = erp_http(answer(status, {"message": "SKU X-1 is blocked", "code": "E42"}))
    with pytest.raises(PermanentErpError) as info:
        http.request("POST", "/orders", json={})
    assert not isinstance(info.value, TransientErpError)
    assert info.value.status == status
    assert info.value.erp_message == (f"POST https://erp.example/orders -> {status}: "
                                      f"SKU X-1 is blocked")


def test_permanent_factory_and_message_extractor_are_used():
    def factory(response: httpx.Response, text: str) -> PermanentErpError:
        return NotFound("acme", text, status=response.status_code, code="nf")
    http = erp_http(answer(404, {"error": {"text": "no such order"}}), permanent=factory,
                    message=lambda r: r.json()["error"]["text"])
    with pytest.raises(NotFound, match="no such order") as info:
        http.request("GET", "/orders/1")
    assert info.value.code == "nf"


def test_non_json_error_body_is_used_as_text():
    http = erp_http(answer(400, "  Bad things happened  "))
    with pytest.raises(PermanentErpError, match="Bad things happened$"):
        http.request("GET", "/x")


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"),
                                 httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof")])
def test_network_failures_are_transient(exc):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    with pytest.raises(TransientErpError) as info:
        erp_http(handler).request("GET", "/x")
    assert info.value.status is None and info.value.retry_after is None


def test_request_retries_transient_then_succeeds():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503, json={"detail": "later"}, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"ok": True})
    http = erp_http(handler, retry=RetryPolicy(attempts=3, base_delay=0))
    assert http.request("GET", "/x").json() == {"ok": True}
    assert len(calls) == 3


def test_permanent_is_not_retried_and_retry_false_is_one_call():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503 if request.method == "POST" else 400, json={"detail": "no"})
    http = erp_http(handler, retry=RetryPolicy(attempts=4, base_delay=0))
    with pytest.raises(PermanentErpError):
        http.request("GET", "/x")
    with pytest.raises(TransientErpError):
        http.request("POST", "/x", retry=False)
    assert len(calls) == 2


# -- URLs and messages ------------------------------------------------------------------------
def test_safe_url_drops_the_query():
    request = httpx.Request("GET", "https://erp.example/api/items?api_key=SECRET&q=1")
    assert safe_url(request) == "https://erp.example/api/items"


def test_error_messages_do_not_carry_query_parameters():
    http = erp_http(answer(400, {"detail": "bad"}))
    with pytest.raises(PermanentErpError) as info:
        http.request("GET", "/items", params={"api_key": "SECRET"})
    assert "SECRET" not in str(info.value)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")
    with pytest.raises(TransientErpError) as info2:
        erp_http(timeout).request("GET", "/items", params={"api_key": "SECRET"})
    assert "SECRET" not in str(info2.value)


def test_timeout_message_drops_a_query_written_into_the_path():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")
    with pytest.raises(TransientErpError) as info:
        erp_http(timeout).request("GET", "/items?api_key=SECRET")
    assert "SECRET" not in str(info.value)


def test_default_message_prefers_detail_then_message():
    response = httpx.Response(400, json={"title": "Bad Request", "detail": "qty must be > 0"})
    assert default_message(response) == "qty must be > 0"
    assert default_message(httpx.Response(400, json=[1, 2])) == "[1, 2]"
    assert default_message(httpx.Response(502, text="")) == "Bad Gateway"


# -- ClientCredentials ------------------------------------------------------------------------
class FakeIdp:
    """Token endpoint + API in one MockTransport handler."""

    def __init__(self, secret: str = "s3cret", token_status: int = 200) -> None:
        self.secret, self.token_status = secret, token_status
        self.token_calls = 0
        self.valid: set[str] = set()
        self.api_calls: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            self.token_calls += 1
            form = dict(httpx.QueryParams(request.content.decode()))
            if self.token_status != 200:
                return httpx.Response(self.token_status, json={"error": "unavailable"})
            expected = httpx.BasicAuth("app", self.secret)._auth_header
            if (request.headers.get("authorization") != expected
                    or form.get("grant_type") != "client_credentials"):
                return httpx.Response(401, json={"error": "invalid_client",
                                                 "error_description": "bad client"})
            token = f"tok{self.token_calls}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        auth = request.headers.get("authorization", "")
        self.api_calls.append(auth)
        if auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"detail": "expired"})
        return httpx.Response(200, json={"ok": True})


def client_for(idp: FakeIdp, secret: str = "s3cret") -> ErpHttp:
    transport = httpx.MockTransport(idp)
    auth = ClientCredentials("acme", "https://idp.example/token", "app", secret,
                             scope="erp", transport=transport)
    return ErpHttp("acme", "https://erp.example", auth=auth, transport=transport, retry=NO_RETRY)


def test_token_is_cached_and_refreshed_once_on_401():
    idp = FakeIdp()
    http = client_for(idp)
    http.request("GET", "/a")
    http.request("GET", "/b")
    assert idp.token_calls == 1
    idp.valid.clear()                                   # the ERP forgot the token
    assert http.request("GET", "/c").json() == {"ok": True}
    assert idp.token_calls == 2
    assert idp.api_calls[-2:] == ["Bearer tok1", "Bearer tok2"]


def test_refused_credentials_are_permanent_and_secret_free():
    idp = FakeIdp(secret="right")
    with pytest.raises(PermanentErpError) as info:
        client_for(idp, secret="wrong-s3cret-value").request("GET", "/a")
    assert info.value.code == "auth" and "bad client" in str(info.value)
    assert "wrong-s3cret-value" not in str(info.value)
    assert "wrong-s3cret-value" not in repr(client_for(idp).client.auth)


def test_token_endpoint_outage_is_transient():
    with pytest.raises(TransientErpError) as info:
        client_for(FakeIdp(token_status=503)).request("GET", "/a")
    assert info.value.status == 503


def test_token_request_body():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            seen.update(dict(httpx.QueryParams(request.content.decode())))
            return httpx.Response(200, json={"access_token": "t"})
        return httpx.Response(200, json={})
    transport = httpx.MockTransport(handler)
    auth = ClientCredentials("acme", "https://idp.example/token", "app", "pw", basic=False,
                             extra={"grant_type": "password", "username": "svc"},
                             transport=transport)
    ErpHttp("acme", "https://erp.example", auth=auth, transport=transport).request("GET", "/")
    assert seen == {"grant_type": "password", "username": "svc", "client_id": "app",
                    "client_secret": "pw"}
