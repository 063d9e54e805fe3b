"""PrestaShop's Webservice API, as the sinks use it (see ../shared/reference/prestashop.md, section 3):
``/api/<resource>[/<id>]``, HTTP Basic with the Webservice key as the user name and an empty
password, ``output_format=JSON`` for what comes back, XML ``<prestashop><node>...</node></prestashop>``
bodies for writes, PATCH with only the id and the fields that change (PrestaShop 8.0+), lists
filtered with ``filter[field]=[v]`` / ``[a|b]`` / ``[from,to]``. Two quirks of the JSON output are
handled here: an empty list comes back as a bare ``[]``, and a single record omits its falsy fields
("0", "", null), so a missing field reads as zero/empty (:func:`int_field`, :func:`decimal_field`).

Timeouts, connection errors, 408/425/429 and 5xx raise :class:`WebserviceUnavailable` (with the
Retry-After); any other refusal raises :class:`WebserviceRefused` with PrestaShop's own error code
and message. The key never appears in a message."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
import xml.etree.ElementTree as ET

import httpx

from pssync.erp.http import parse_retry_after
from pssync.errors import PermanentError, TransientError
from pssync.settings import PrestashopWebserviceSettings

TRANSIENT_STATUS = {408, 425, 429}          # and every 5xx


class WebserviceUnavailable(TransientError):
    """The Webservice did not answer, or answered 408/425/429/5xx: try again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class WebserviceRefused(PermanentError):
    """The Webservice refused the request, or answered something that is not what its documents say."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PrestashopWebservice:
    """A small client for the resources the sink uses; answers parsed from JSON."""

    def __init__(self, settings: PrestashopWebserviceSettings, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        base = settings.url.rstrip("/") + "/"
        self._http = httpx.Client(
            base_url=base, auth=httpx.BasicAuth(settings.key.get_secret_value(), ""),
            timeout=httpx.Timeout(settings.timeout_s), transport=transport,
            headers={"Accept": "application/json"}, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    # -- reads ------------------------------------------------------------------------------
    def list(self, resource: str, *, filters: Mapping[str, str] | None = None,
             display: str = "full", date: bool = False,
             params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """``GET /api/<resource>?display=...&filter[f]=...``: the matching records (display=full:
        with their associations). ``filters`` values use PrestaShop's syntax, e.g. "[12]"."""
        query: dict[str, str] = {"display": display}
        if date:
            query["date"] = "1"
        for name, value in (filters or {}).items():
            query[f"filter[{name}]"] = value
        query.update(params or {})
        body = self._json(self._send("GET", resource, params=query), "GET", resource)
        if body == [] or body == {}:
            return []                          # PrestaShop's JSON for "nothing matched"
        if isinstance(body, dict) and isinstance(body.get(resource), list):
            return [row for row in body[resource] if isinstance(row, dict)]
        raise WebserviceRefused(f"PrestaShop Webservice GET {resource}: unexpected answer "
                               f"{_short(body)}")

    def get(self, resource: str, record_id: int,
            params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``GET /api/<resource>/<id>``: the record. Falsy fields are absent (PrestaShop's JSON
        output filters them out of single records)."""
        path = f"{resource}/{int(record_id)}"
        return self._record(self._json(self._send("GET", path, params=dict(params or {})), "GET", path),
                            "GET", path)

    # -- writes -------------------------------------------------------------------------------
    def patch(self, resource: str, node: str, record_id: int, fields: Mapping[str, Any],
              params: Mapping[str, str] | None = None) -> None:
        """``PATCH /api/<resource>/<id>`` with only the id and ``fields`` (PrestaShop 8.0+)."""
        body = xml_body(node, {"id": int(record_id), **fields})
        self._send("PATCH", f"{resource}/{int(record_id)}", params=dict(params or {}), content=body)

    def post(self, resource: str, node: str, fields: Mapping[str, Any],
             params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = self._send("POST", resource, params=dict(params or {}), content=xml_body(node, fields))
        try:
            return self._record(response.json(), "POST", resource)
        except (ValueError, WebserviceRefused):
            return {}      # created (201); the echoed record is only informational

    # -- internals ----------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: dict[str, str],
              content: bytes | None = None) -> httpx.Response:
        params = {**params, "output_format": "JSON"}
        headers = {"Content-Type": "text/xml; charset=utf-8"} if content is not None else None
        where = f"PrestaShop Webservice {method} {path}"
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise WebserviceUnavailable(f"{where} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise WebserviceUnavailable(f"{where} failed: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return response
        message = error_message(response)
        reason = f"{where} -> {status}: {message}"
        if status >= 500 or status in TRANSIENT_STATUS:
            raise WebserviceUnavailable(reason, retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if 300 <= status < 400:
            reason += f" (redirected to {response.headers.get('Location', '?')}; check sinks.webservice.url)"
        raise WebserviceRefused(reason)

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            # a maintenance page or PHP notices printed before the JSON: the shop's problem, for now
            raise WebserviceUnavailable(f"PrestaShop Webservice {method} {path}: answer is not JSON "
                                   f"({_short(response.text)})") from None

    @staticmethod
    def _record(body: Any, method: str, path: str) -> dict[str, Any]:
        if isinstance(body, dict) and len(body) == 1:
            (value,) = body.values()
            if isinstance(value, list) and len(value) == 1:
                value = value[0]                # the list shape, when display= was sent
            if isinstance(value, dict):
                return value
        raise WebserviceRefused(f"PrestaShop Webservice {method} {path}: unexpected answer {_short(body)}")


def xml_body(node: str, fields: Mapping[str, Any]) -> bytes:
    """``<prestashop><node><field>value</field>...</node></prestashop>``, the documented format."""
    root = ET.Element("prestashop", {"xmlns:xlink": "http://www.w3.org/1999/xlink"})
    element = ET.SubElement(root, node)
    for name, value in fields.items():
        ET.SubElement(element, name).text = "" if value is None else str(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def error_message(response: httpx.Response) -> str:
    """PrestaShop's own error(s): ``{"errors":[{"code","message"}]}`` in JSON, or
    ``<prestashop><errors><error><code/><message/>`` in XML; else the start of the body."""
    text = response.text.strip()
    if not text:
        return response.reason_phrase or "empty answer"
    errors: list[tuple[Any, str]] = []
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        errors = [(e.get("code"), str(e.get("message", ""))) for e in body["errors"] if isinstance(e, dict)]
    elif body is None and text.startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            root = None
        if root is not None:
            errors = [((e.findtext("code") or "").strip() or None, (e.findtext("message") or "").strip())
                      for e in root.iter("error")]
    if errors:
        return "; ".join(f"[{code}] {msg}" if code not in (None, "") else msg for code, msg in errors)
    return _short(text, 300)


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def int_field(row: Mapping[str, Any], name: str) -> int:
    """A numeric field of a Webservice record: strings in JSON, absent when 0 in single records."""
    value = row.get(name)
    if value in (None, "", False):
        return 0
    try:
        return int(str(value))
    except ValueError:
        raise WebserviceRefused(f"PrestaShop Webservice returned {name}={value!r}, not an integer") from None


def decimal_field(row: Mapping[str, Any], name: str) -> Decimal:
    value = row.get(name)
    if value in (None, "", False):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise WebserviceRefused(f"PrestaShop Webservice returned {name}={value!r}, not a number") from None


def one_of(values: Iterable[int]) -> str:
    return "[" + "|".join(str(v) for v in values) + "]"
