"""The HTTP transport shared by REST adapters: httpx with timeouts, errors classified into
transient/permanent with the ERP's own message, Retry-After parsed, secrets kept out of messages."""
from __future__ import annotations

import datetime as dt
import email.utils
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from pssync.erp.errors import PermanentErpError, TransientErpError
from pssync.retry import RetryPolicy, with_retries

MessageExtractor = Callable[[httpx.Response], str]
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, source zone unknown"
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def default_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "title", "error"):
            if isinstance(body.get(key), str):
                return body[key]
    return str(body)[:500]


def safe_url(request: httpx.Request) -> str:
    """The request URL without query string (it may carry keys)."""
    return str(request.url.copy_with(query=None))


class ErpHttp:
    def __init__(self, erp: str, base_url: str, *, auth: httpx.Auth | None = None,
                 timeout: float = 30.0, headers: dict[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 message: MessageExtractor = default_message,
                 permanent: Callable[[httpx.Response, str], PermanentErpError] | None = None,
                 retry: RetryPolicy = RetryPolicy()) -> None:
        self.erp = erp
        self.client = httpx.Client(base_url=base_url, auth=auth, timeout=timeout,
                                   headers=headers or {}, transport=transport)
        self.message = message
        self.permanent = permanent
        self.retry = retry

    def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        shown = path.split("?", 1)[0]  # a query may carry keys
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientErpError(self.erp, f"{method} {shown} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientErpError(self.erp, f"{method} {shown} failed: {type(exc).__name__}") from exc
        if response.is_success:
            return response
        text = self.message(response)
        where = f"{method} {safe_url(response.request)} -> {response.status_code}"
        if response.status_code in TRANSIENT_STATUS:
            raise TransientErpError(self.erp, f"{where}: {text}", status=response.status_code,
                                    retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if self.permanent is not None:
            raise self.permanent(response, f"{where}: {text}")
        raise PermanentErpError(self.erp, f"{where}: {text}", status=response.status_code)

    def request(self, method: str, path: str, *, retry: bool | None = None, **kwargs: Any) -> httpx.Response:
        """With ``retry`` None, only idempotent methods are retried: repeating a POST whose
        answer was lost could create the thing twice (retry find-then-create as a whole)."""
        if retry is None:
            retry = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        if not retry:
            return self._once(method, path, **kwargs)
        return with_retries(lambda: self._once(method, path, **kwargs), self.retry,
                            what=f"{self.erp} {method} {path.split('?', 1)[0]}")

    def check_credentials(self) -> None:
        """Fetch the OAuth token now (other schemes are checked by the first request)."""
        auth = self.client.auth
        if isinstance(auth, ClientCredentials):
            with_retries(auth.token, self.retry, what=f"{self.erp} token")

    def close(self) -> None:
        self.client.close()


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client-credentials grant: a bearer token fetched on first use, reused until
    shortly before it expires, fetched again once on a 401."""

    requires_response_body = True

    def __init__(self, erp: str, token_url: str, client_id: str, client_secret: str,
                 scope: str | None = None, extra: dict[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, basic: bool = True) -> None:
        self.erp = erp
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.extra = extra or {}
        self.basic = basic
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30.0, transport=transport)

    def __repr__(self) -> str:  # never show the secret
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _fetch(self) -> None:
        data = {"grant_type": "client_credentials", **self.extra}
        if self.scope:
            data["scope"] = self.scope
        auth = None
        if self.basic:
            auth = (self.client_id, self._secret)
        else:
            data.update(client_id=self.client_id, client_secret=self._secret)
        try:
            response = self._http.post(self.token_url, data=data, auth=auth)
        except httpx.TransportError as exc:
            raise TransientErpError(self.erp, f"token endpoint {self.token_url} unreachable: "
                                              f"{type(exc).__name__}") from exc
        if response.status_code in TRANSIENT_STATUS:
            raise TransientErpError(self.erp, f"token endpoint answered {response.status_code}",
                                    status=response.status_code,
                                    retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if not response.is_success:
            raise PermanentErpError(self.erp, f"token request for client {self.client_id!r} refused "
                                              f"({response.status_code}): {default_message(response)}",
                                    status=response.status_code, code="auth")
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentErpError(self.erp, f"token endpoint {self.token_url} answered without a "
                                              f"usable access_token ({type(exc).__name__})", code="auth") from exc
        self._token = token
        self._expires = time.monotonic() + lifetime - 30

    def _current(self, stale: str | None = None) -> str:
        with self._lock:  # one fetch when several threads find the token expired at once
            if self._token is None or self._token == stale or time.monotonic() >= self._expires:
                self._fetch()
            assert self._token is not None
            return self._token

    def token(self) -> str:
        return self._current()

    def auth_flow(self, request: httpx.Request):  # type: ignore[override]
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._current(stale=token)}"
            yield request

    def close(self) -> None:
        self._http.close()
