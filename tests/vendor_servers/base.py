"""What every local vendor server shares: a real HTTP server on 127.0.0.1 (free port, own thread),
an OAuth 2.0 token endpoint that rejects wrong credentials, bearer checks on every API call, a call
log (with the replies), and switches that make the next N API calls fail (429 + Retry-After, 503
with an optional Retry-After, a timeout, a validation error, an unknown product) the way the
vendor documents those failures.

These servers are test doubles written from the vendors' published documentation; they are not
the real products."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

# lost_reply: the call is processed (state changes) but the caller gets a 504, as a gateway
# timing out in front of a slow backend does
FaultKind = Literal["429", "503", "timeout", "validation", "unknown_product", "lost_reply"]


@dataclass
class Reply:
    status: int
    body: Any = None                      # dict/list: JSON; str: text; None: empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    retry_after: str = "1"
    path_contains: str | None = None      # only calls whose path contains this
    method: str | None = None             # only calls with this method
    taken: int = 0                        # how many calls this fault has answered
    retry_after_given: bool = False       # a 503 carries Retry-After only when it was asked for


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any


class VendorServer:
    """Subclasses implement ``route`` (the API), ``credentials_ok`` (the token endpoint's check)
    and ``error_reply`` (the vendor's body for a validation error / unknown product)."""

    token_path = "/oauth2/token"
    timeout_delay = 2.0                    # how long a "timeout" fault stalls before answering

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.served: list[tuple[Call, Reply]] = []   # what the API answered (faults excluded)
        self.token_requests = 0
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "VendorServer":
        handler = type("Handler", (_Handler,), {"vendor": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # a short poll interval: stop() returns at once instead of after up to half a second
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True, name=type(self).__name__)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_url(self) -> str:
        return self.url + self.token_path

    # -- switches and counters --------------------------------------------------------------
    def fail_next(self, n: int, kind: FaultKind, *, retry_after: str | None = None,
                  path_contains: str | None = None, method: str | None = None) -> Fault:
        """The next ``n`` matching API calls fail with ``kind``; the returned fault counts how
        many it answered (``taken``)."""
        fault = Fault(kind, n, "1" if retry_after is None else retry_after, path_contains, method,
                      retry_after_given=retry_after is not None)
        with self.lock:
            self.faults.append(fault)
        return fault

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def count(self, path_contains: str = "", method: str | None = None) -> int:
        with self.lock:
            return sum(1 for c in self.calls if path_contains in c.path
                       and (method is None or c.method == method))

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()
            self.served.clear()
            self.token_requests = 0

    # -- hooks --------------------------------------------------------------------------------
    def credentials_ok(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        raise NotImplementedError

    def accepts(self, authorization: str) -> bool:
        """Other Authorization headers the API takes besides tokens from its token endpoint."""
        return False

    def route(self, call: Call) -> Reply:
        raise NotImplementedError

    def error_reply(self, kind: FaultKind, call: Call) -> Reply:
        raise NotImplementedError

    # -- internals ----------------------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and (fault.path_contains is None
                                            or fault.path_contains in path) \
                        and (fault.method is None or fault.method == method):
                    fault.remaining -= 1
                    fault.taken += 1
                    return fault
            return None

    def _token(self, form: dict[str, str], basic: tuple[str, str] | None) -> Reply:
        with self.lock:
            self.token_requests += 1
        if not self.credentials_ok(form, basic):
            return Reply(401, {"error": "invalid_client",
                               "error_description": "Client authentication failed"})
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str],
                  raw_body: bytes) -> Reply | None:
        """None: stall (timeout fault) and drop the connection."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path == self.token_path and method == "POST":
            form = dict(parse_qsl(raw_body.decode(), keep_blank_values=True))
            return self._token(form, _basic(headers.get("authorization", "")))
        auth = headers.get("authorization", "")
        with self.lock:
            authorised = (auth.startswith("Bearer ") and auth[7:] in self.tokens
                          or self.accepts(auth))
        if not authorised:
            return Reply(401, {"title": "Unauthorized", "detail": "missing or expired token"})
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode(errors="replace")
        call = Call(method, path, query, body)
        with self.lock:
            self.calls.append(call)
        fault = self._take_fault(method, path)
        if fault is not None:
            if fault.kind == "timeout":
                time.sleep(self.timeout_delay)
                return None
            if fault.kind == "429":
                return Reply(429, {"title": "Too Many Requests", "detail": "rate limit exceeded"},
                             {"Retry-After": fault.retry_after})
            if fault.kind == "503":
                return Reply(503, {"title": "Service Unavailable", "detail": "try again later"},
                             {"Retry-After": fault.retry_after} if fault.retry_after_given else {})
            if fault.kind == "lost_reply":
                with self.lock:
                    self.route(call)
                return Reply(504, {"title": "Gateway Timeout", "detail": "upstream timed out"})
            return self.error_reply(fault.kind, call)
        with self.lock:
            reply = self.route(call)
            self.served.append((call, reply))
            return reply


def _basic(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


class _Handler(BaseHTTPRequestHandler):
    vendor: VendorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.vendor._dispatch(self.command, self.path, headers, raw)
        if reply is None:
            self.close_connection = True
            return
        if isinstance(reply.body, (dict, list)):
            payload, ctype = json.dumps(reply.body).encode(), "application/json"
        elif reply.body is None:
            payload, ctype = b"", "text/plain"
        else:
            payload, ctype = str(reply.body).encode(), "text/plain"
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if "Content-Type" not in reply.headers:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle
