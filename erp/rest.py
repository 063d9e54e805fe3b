"""A generic REST adapter for ERPs we don't ship, configured rather than coded:

- ``endpoints``: ``"METHOD /path?query"`` templates with ``{placeholders}`` (``order_create``,
  ``order_find``, ``order_cancel``, ``stock_snapshot``, ``changes.<kind>``);
- ``fields``: per record type, dotted paths into the ERP's rows (``stock.sku: item.code``);
- ``responses``: dotted paths to ids, lists and page tokens in the ERP's answers;
- ``order_body`` / ``order_line_body``: JSON templates of the order the ERP is sent;
- ``auth``: bearer, basic or OAuth 2.0 client credentials.

Everything is checked when the settings are built; every error names the offending key."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pssync.erp.base import (CHANGE_KINDS, Change, ChangeKind, OrderStatus, Price, Product, Record,
                      SalesOrder, SalesOrderResult, Shipment, StockLevel, StockPage)
from pssync.erp.errors import NotFound, PermanentErpError, UnknownProduct
from pssync.erp.http import ClientCredentials, ErpHttp, default_message
from pssync.retry import RetryPolicy, with_retries
from pssync.settings import SecretText

ID_WIDTH = 20
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

ENDPOINTS: dict[str, frozenset[str]] = {
    "order_create": frozenset({"shop_reference"}),
    "order_find": frozenset({"shop_reference"}),
    "order_cancel": frozenset({"shop_reference", "erp_order_id"}),
    "stock_snapshot": frozenset({"page", "page_size"}),
    **{f"changes.{kind}": frozenset({"since", "after_id", "limit"}) for kind in CHANGE_KINDS},
}
REQUIRED_ENDPOINTS = ("order_create", "order_find", "order_cancel", "stock_snapshot")

# record type -> (required fields, optional fields)
RECORD_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "stock": (frozenset({"sku", "quantity", "ts"}),
              frozenset({"erp_product_id", "warehouse", "on_hand", "row_id"})),
    "price": (frozenset({"sku", "list_price", "ts"}),
              frozenset({"erp_product_id", "currency", "row_id"})),
    "product": (frozenset({"sku", "name", "ts"}),
                frozenset({"erp_product_id", "active", "row_id"})),
    "order_status": (frozenset({"erp_order_id", "state", "ts"}),
                     frozenset({"shop_reference", "row_id"})),
    "shipment": (frozenset({"erp_shipment_id", "state", "ts"}),
                 frozenset({"erp_order_id", "shop_reference", "tracking_number", "carrier",
                            "row_id"})),
}

RESPONSES = {                     # where things are in the ERP's answers ("" = the body itself)
    "order_create.id": "id",
    "order_find.id": "0.id",
    "changes.items": "items",
    "stock_snapshot.items": "items",
    "stock_snapshot.next_page": "next_page",
}

_ADDRESS = ("name", "street", "street2", "postal_code", "city", "country_code", "company", "phone")
ORDER_PLACEHOLDERS = frozenset({
    "shop_reference", "currency", "ordered_at", "customer_id", "customer_name", "customer_email",
    "customer_company", "shipping_cost", "comment", "lines",
    *(f"invoice_{f}" for f in _ADDRESS), *(f"shipping_{f}" for f in _ADDRESS)})
LINE_PLACEHOLDERS = frozenset({"sku", "quantity", "unit_price", "description", "line_number"})


# -- settings ---------------------------------------------------------------------------------
class BearerAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["bearer"]
    token: SecretText


class BasicAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"]
    username: str
    password: SecretText


class OAuthAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["oauth"]
    token_url: str
    client_id: str
    client_secret: SecretText
    scope: str | None = None
    client_auth: Literal["basic", "body"] = "basic"


Auth = Annotated[BearerAuth | BasicAuth | OAuthAuth, Field(discriminator="type")]


def placeholders(template: Any, where: str) -> list[tuple[str, str]]:
    """(path in the template, placeholder name) of every placeholder in a JSON template."""
    if isinstance(template, dict):
        return [p for k, v in template.items() for p in placeholders(v, f"{where}.{k}")]
    if isinstance(template, list):
        return [p for i, v in enumerate(template) for p in placeholders(v, f"{where}.{i}")]
    if isinstance(template, str):
        return [(where, name) for name in PLACEHOLDER.findall(template)]
    return []


def check_path(path: str, where: str) -> str:
    if path and any(not part for part in path.split(".")):
        raise ValueError(f"{where}: {path!r} is not a dotted path like 'item.code'")
    return path


class Endpoint(BaseModel):
    method: str
    path: str
    query: list[tuple[str, str]]

    @classmethod
    def parse(cls, key: str, spec: str) -> "Endpoint":
        method, _, target = spec.strip().partition(" ")
        method = method.upper()
        if method not in METHODS or not target.strip().startswith("/"):
            raise ValueError(f"endpoints.{key}: {spec!r} must look like 'GET /path?x={{y}}'")
        parts = urlsplit(target.strip())
        endpoint = cls(method=method, path=parts.path,
                       query=parse_qsl(parts.query, keep_blank_values=True))
        used = PLACEHOLDER.findall(endpoint.path) + [n for _, v in endpoint.query
                                                     for n in PLACEHOLDER.findall(v)]
        unknown = sorted(set(used) - ENDPOINTS[key])
        if unknown:
            raise ValueError(f"endpoints.{key}: unknown placeholder(s) "
                             f"{', '.join('{' + u + '}' for u in unknown)}; allowed: "
                             f"{', '.join('{' + a + '}' for a in sorted(ENDPOINTS[key]))}")
        return endpoint

    def render(self, values: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
        path = PLACEHOLDER.sub(lambda m: quote(values[m[1]], safe=""), self.path)
        query = [(k, PLACEHOLDER.sub(lambda m: values[m[1]], v)) for k, v in self.query]
        return path, query


DEFAULT_LINE = {"sku": "{sku}", "quantity": "{quantity}", "unit_price": "{unit_price}"}


class RestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "rest"                     # how this ERP is named in errors and logs
    base_url: str
    auth: Auth | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 30.0
    retry_attempts: int = Field(5, ge=1)
    retry_base_delay: float = Field(0.2, ge=0)
    endpoints: dict[str, str]
    fields: dict[str, dict[str, str]] = Field(default_factory=dict)
    responses: dict[str, str] = Field(default_factory=dict)
    order_body: Any
    order_line_body: Any = Field(default_factory=lambda: dict(DEFAULT_LINE))
    currency: str = "EUR"                  # for price rows without a currency
    warehouse: str = ""                    # for stock rows without a warehouse
    error_message: str | None = None       # dotted path to the ERP's message in error bodies
    error_code: str | None = None          # dotted path to the ERP's error code
    unknown_product_codes: list[str] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: dict[str, str]) -> dict[str, str]:
        for key, spec in value.items():
            if key not in ENDPOINTS:
                raise ValueError(f"endpoints.{key}: unknown endpoint; known: "
                                 f"{', '.join(sorted(ENDPOINTS))}")
            Endpoint.parse(key, spec)
        missing = [k for k in REQUIRED_ENDPOINTS if k not in value]
        if missing:
            raise ValueError(f"endpoints.{missing[0]}: required "
                             f"(missing: {', '.join(missing)})")
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _nest_flat_fields(cls, value: Any) -> Any:
        """Accept ``{"stock.sku": "item.code"}`` as well as ``{"stock": {"sku": ...}}``."""
        if not isinstance(value, dict):
            return value
        nested: dict[str, Any] = {}
        for key, path in value.items():
            if isinstance(path, dict):
                nested.setdefault(key, {}).update(path)
            else:
                kind, _, name = str(key).partition(".")
                nested.setdefault(kind, {})[name] = path
        return nested

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for kind, mapping in value.items():
            if kind not in RECORD_FIELDS:
                raise ValueError(f"fields.{kind}: unknown record type; known: "
                                 f"{', '.join(RECORD_FIELDS)}")
            required, optional = RECORD_FIELDS[kind]
            for name, path in mapping.items():
                if name not in required | optional:
                    raise ValueError(f"fields.{kind}.{name}: unknown field; known: "
                                     f"{', '.join(sorted(required | optional))}")
                if not path:
                    raise ValueError(f"fields.{kind}.{name}: empty path")
                check_path(path, f"fields.{kind}.{name}")
            for name in sorted(required - set(mapping)):
                raise ValueError(f"fields.{kind}.{name}: required")
        return value

    @field_validator("responses")
    @classmethod
    def _responses(cls, value: dict[str, str]) -> dict[str, str]:
        for key, path in value.items():
            if key not in RESPONSES:
                raise ValueError(f"responses.{key}: unknown; known: {', '.join(RESPONSES)}")
            check_path(path, f"responses.{key}")
        return value

    @field_validator("order_body")
    @classmethod
    def _order_body(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("order_body: must be a JSON object template")
        for where, name in placeholders(value, "order_body"):
            if name not in ORDER_PLACEHOLDERS:
                raise ValueError(f"{where}: unknown placeholder {{{name}}}; allowed: "
                                 f"{', '.join(sorted(ORDER_PLACEHOLDERS))}")
        return value

    @field_validator("order_line_body")
    @classmethod
    def _line_body(cls, value: Any) -> Any:
        for where, name in placeholders(value, "order_line_body"):
            if name not in LINE_PLACEHOLDERS:
                raise ValueError(f"{where}: unknown placeholder {{{name}}}; allowed: "
                                 f"{', '.join(sorted(LINE_PLACEHOLDERS))}")
        return value

    @field_validator("error_message", "error_code")
    @classmethod
    def _error_paths(cls, value: str | None) -> str | None:
        return check_path(value, "error path") if value else value

    @model_validator(mode="after")
    def _consistent(self) -> "RestSettings":
        for key in self.endpoints:
            if key.startswith("changes."):
                kind = key.split(".", 1)[1]
                if kind not in self.fields:
                    raise ValueError(f"fields.{kind}: required because endpoints.{key} is set")
        if "stock" not in self.fields:
            raise ValueError("fields.stock: required for endpoints.stock_snapshot")
        return self

    def response_path(self, key: str) -> str:
        return self.responses.get(key, RESPONSES[key])


# -- helpers ----------------------------------------------------------------------------------
def get_path(value: Any, path: str) -> Any:
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
        if value is None:
            return None
    return value


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def render(template: Any, values: dict[str, Any]) -> Any:
    """A whole-string ``"{name}"`` takes the value's JSON type; inside text it is formatted."""
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return json_value(values[whole[1]])
        return PLACEHOLDER.sub(lambda m: str(json_value(values[m[1]])), template)
    return template


def parse_ts(value: Any) -> dt.datetime:
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        ts = dt.datetime.fromtimestamp(number / 1000 if number > 1e11 else number,
                                       dt.timezone.utc)
    else:
        ts = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.timezone.utc)
    return ts.astimezone(dt.timezone.utc)


def pad(value: Any) -> str:
    text = str(value)
    return text.zfill(ID_WIDTH) if text.isdigit() else text


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "active", "enabled")


def order_values(order: SalesOrder, line_template: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "shop_reference": order.shop_reference, "currency": order.currency,
        "ordered_at": order.ordered_at, "customer_id": order.customer.external_id,
        "customer_name": order.customer.name, "customer_email": order.customer.email,
        "customer_company": order.customer.company, "shipping_cost": order.shipping_cost,
        "comment": order.comment}
    for prefix, address in (("invoice", order.invoice_address),
                            ("shipping", order.shipment_address)):
        for name in _ADDRESS:
            values[f"{prefix}_{name}"] = getattr(address, name)
    values["lines"] = [render(line_template, {
        "sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price,
        "description": line.description, "line_number": n})
        for n, line in enumerate(order.lines, start=1)]
    return values


# -- adapter ----------------------------------------------------------------------------------
class RestAdapter:
    Settings = RestSettings

    def __init__(self, settings: RestSettings) -> None:
        self.settings = s = settings
        self.name = s.name
        self.endpoints = {k: Endpoint.parse(k, v) for k, v in s.endpoints.items()}
        self.retry = RetryPolicy(attempts=s.retry_attempts, base_delay=s.retry_base_delay)
        self._closers: list[Callable[[], None]] = []
        self.http = ErpHttp(s.name, s.base_url, auth=self._auth(), timeout=s.timeout,
                            headers=self._headers(), message=self._message,
                            permanent=self._permanent, retry=self.retry)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.settings.headers}
        if isinstance(self.settings.auth, BearerAuth):
            headers["Authorization"] = f"Bearer {self.settings.auth.token.get_secret_value()}"
        return headers

    def _auth(self) -> httpx.Auth | None:
        auth = self.settings.auth
        if isinstance(auth, BasicAuth):
            return httpx.BasicAuth(auth.username, auth.password.get_secret_value())
        if isinstance(auth, OAuthAuth):
            oauth = ClientCredentials(self.settings.name, auth.token_url, auth.client_id,
                                      auth.client_secret.get_secret_value(), scope=auth.scope,
                                      basic=auth.client_auth == "basic")
            self._closers.append(oauth.close)
            return oauth
        return None

    # -- errors -----------------------------------------------------------------------------
    def _body(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _message(self, response: httpx.Response) -> str:
        if self.settings.error_message:
            found = get_path(self._body(response), self.settings.error_message)
            if found not in (None, ""):
                return str(found)
        return default_message(response)

    def _permanent(self, response: httpx.Response, text: str) -> PermanentErpError:
        code = None
        if self.settings.error_code:
            found = get_path(self._body(response), self.settings.error_code)
            code = str(found) if found is not None else None
        if code is not None and code in self.settings.unknown_product_codes:
            return UnknownProduct(self.name, text, status=response.status_code, code=code)
        if response.status_code == 404:
            return NotFound(self.name, text, status=404, code=code)
        return PermanentErpError(self.name, text, status=response.status_code, code=code)

    # -- calls ------------------------------------------------------------------------------
    def call(self, key: str, values: dict[str, str], *, json: Any = None,
             retry: bool = True) -> Any:
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            raise PermanentErpError(self.name, f"endpoints.{key} is not configured")
        path, query = endpoint.render(values)
        kwargs: dict[str, Any] = {"params": query} if query else {}
        if json is not None:
            kwargs["json"] = json
        response = self.http.request(endpoint.method, path, retry=retry, **kwargs)
        return self._body(response) if response.content else None

    def _rows(self, body: Any, key: str) -> list[Any]:
        rows = get_path(body, self.settings.response_path(key))
        if not isinstance(rows, list):
            raise PermanentErpError(self.name, f"responses.{key}: no list at "
                                               f"{self.settings.response_path(key)!r}")
        return rows

    # -- records ----------------------------------------------------------------------------
    def _field(self, kind: str, row: Any, name: str, default: Any = None) -> Any:
        path = self.settings.fields[kind].get(name)
        if path is None:
            return default
        value = get_path(row, path)
        if value is None and name in RECORD_FIELDS[kind][0]:
            raise PermanentErpError(self.name, f"fields.{kind}.{name}: nothing at {path!r} "
                                               f"in a {kind} row")
        return default if value is None else value

    def _decimal(self, kind: str, row: Any, name: str) -> Decimal | None:
        value = self._field(kind, row, name)
        if value is None:
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise PermanentErpError(self.name, f"fields.{kind}.{name}: {value!r} is not a "
                                               f"number") from None

    def record(self, kind: str, row: Any) -> tuple[str, Record, dt.datetime, str, str]:
        """(key, record, ts, row id, raw ts) of one ERP row."""
        raw_ts = self._field(kind, row, "ts")
        ts = parse_ts(raw_ts)
        f = lambda name, default=None: self._field(kind, row, name, default)  # noqa: E731
        record: Record
        if kind == "stock":
            sku = str(f("sku"))
            record = StockLevel(sku, str(f("erp_product_id", sku)),
                                self._decimal(kind, row, "quantity") or Decimal(0),
                                str(f("warehouse", self.settings.warehouse)), ts,
                                self._decimal(kind, row, "on_hand"))
            key = sku
        elif kind == "price":
            sku = str(f("sku"))
            record = Price(sku, str(f("erp_product_id", sku)),
                           self._decimal(kind, row, "list_price") or Decimal(0),
                           str(f("currency", self.settings.currency)), ts)
            key = sku
        elif kind == "product":
            sku = str(f("sku"))
            record = Product(sku, str(f("erp_product_id", sku)), str(f("name")),
                             to_bool(f("active", True)), ts)
            key = sku
        elif kind == "order_status":
            key = str(f("erp_order_id"))
            reference = f("shop_reference")
            record = OrderStatus(key, str(reference) if reference is not None else None,
                                 str(f("state")), ts)
        else:
            key = str(f("erp_shipment_id"))
            opt = lambda name: None if f(name) is None else str(f(name))  # noqa: E731
            record = Shipment(key, opt("erp_order_id"), opt("shop_reference"), str(f("state")),
                              opt("tracking_number"), opt("carrier"), ts)
        return key, record, ts, pad(f("row_id", key)), str(raw_ts)

    def _change(self, kind: ChangeKind, row: Any) -> Change:
        key, record, ts, row_id, raw_ts = self.record(kind, row)
        return Change(kind, key, record, ts, row_id, f"{self.name}:{kind}:{row_id}:{raw_ts}")

    # -- ErpAdapter -------------------------------------------------------------------------
    def changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                limit: int = 500) -> list[Change]:
        if kind not in self.settings.fields or f"changes.{kind}" not in self.endpoints:
            raise PermanentErpError(self.name, f"endpoints.changes.{kind} is not configured")
        found: dict[tuple[dt.datetime, str], Change] = {}
        cursor = (since, after_id)
        for _ in range(100):        # the ERP may answer rows at or before the cursor: skip on
            body = self.call(f"changes.{kind}", {
                "since": cursor[0].isoformat() if cursor[0] else "", "after_id": cursor[1],
                "limit": str(limit)})
            rows = self._rows(body, "changes.items")
            batch = sorted((self._change(kind, row) for row in rows),
                           key=lambda c: (c.ts, c.row_id))
            for change in batch:
                if since is None or (change.ts, change.row_id) > (since, after_id):
                    found[(change.ts, change.row_id)] = change
            if len(rows) < limit or len(found) >= limit or not batch:
                break
            last = (batch[-1].ts, batch[-1].row_id)
            if cursor[0] is not None and last <= cursor:  # type: ignore[operator]
                break                                     # no progress: stop, don't loop
            cursor = last
        return [found[k] for k in sorted(found)][:limit]

    def stock_snapshot(self, page: str | None = None, page_size: int = 500) -> StockPage:
        body = self.call("stock_snapshot", {"page": page or "", "page_size": str(page_size)})
        rows = self._rows(body, "stock_snapshot.items")
        levels = [self.record("stock", row)[1] for row in rows]
        token = get_path(body, self.settings.response_path("stock_snapshot.next_page"))
        return StockPage(levels, str(token) if token not in (None, "") and rows else None)

    def _find(self, shop_reference: str, retry: bool = True) -> str | None:
        try:
            body = self.call("order_find", {"shop_reference": shop_reference}, retry=retry)
        except NotFound:
            return None
        found = get_path(body, self.settings.response_path("order_find.id"))
        return None if found in (None, "") else str(found)

    def find_sales_order(self, shop_reference: str) -> str | None:
        return self._find(shop_reference)

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        body = render(self.settings.order_body,
                      order_values(order, self.settings.order_line_body))

        def attempt() -> SalesOrderResult:
            existing = self._find(order.shop_reference, retry=False)
            if existing is not None:
                return SalesOrderResult(existing, created=False)
            answer = self.call("order_create", {"shop_reference": order.shop_reference},
                               json=body, retry=False)
            erp_id = get_path(answer, self.settings.response_path("order_create.id"))
            if erp_id in (None, ""):
                erp_id = self._find(order.shop_reference, retry=False)
            if erp_id in (None, ""):
                raise PermanentErpError(self.name, "order created but its id is not at "
                                                   "responses.order_create.id")
            return SalesOrderResult(str(erp_id), created=True)

        return with_retries(attempt, self.retry,
                            what=f"{self.name} create order {order.shop_reference}")

    def cancel_sales_order(self, shop_reference: str) -> str:
        erp_id = self._find(shop_reference)
        if erp_id is None:
            raise NotFound(self.name, f"no order for shop reference {shop_reference!r}")
        self.call("order_cancel", {"shop_reference": shop_reference, "erp_order_id": erp_id})
        return erp_id

    def check(self) -> None:
        self.http.check_credentials()

    def close(self) -> None:
        self.http.close()
        for close in self._closers:
            close()
