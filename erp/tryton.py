"""Tryton (8.x) over JSON-RPC. Facts relied on: login with ``common.db.login`` then
``Authorization: Session base64(login:uid:token)``; calls are ``model.<name>.<method>`` with the
user context as last parameter; Decimal/datetime travel as ``{"__class__": ...}`` objects;
timestamps are naive UTC; the server runs no on_change over RPC, so sales are sent complete;
a confirmed sale is cancelled by going back to draft first; stock changes bump no product
timestamp, so the stock feed follows ``stock.move``. The shipment ``reference`` field (the
external identifier of a shipment) carries the carrier's tracking number."""
from __future__ import annotations

import base64
import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pssync.erp.base import (Address, Change, ChangeKind, Customer, OrderStatus, Price, Product,
                      SalesOrder, SalesOrderResult, Shipment, StockLevel, StockPage)
from pssync.erp.errors import ErpLoginRefused, NotFound, PermanentErpError, TransientErpError, UnknownProduct
from pssync.erp.http import parse_retry_after
from pssync.retry import RetryPolicy, with_retries
from pssync.settings import SecretText

UTC = dt.timezone.utc
_ids = itertools.count(1)


def encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        cls = value.get("__class__")
        if cls == "Decimal":
            return Decimal(value["decimal"])
        if cls == "datetime":
            return dt.datetime(value["year"], value["month"], value["day"], value["hour"],
                               value["minute"], value["second"], value.get("microsecond", 0), tzinfo=UTC)
        if cls == "date":
            return dt.date(value["year"], value["month"], value["day"])
        if cls == "bytes":
            return base64.b64decode(value["base64"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


PRICE_DIGITS = Decimal("0.0001")   # sale.line.unit_price digits in Tryton (PrestaShop keeps 6)


def _price(value: Decimal) -> Decimal:
    """PrestaShop prices carry 6 decimals, Tryton's unit price 4: rounded half-up, the way a
    price is rounded everywhere else (11.900000 -> 11.9000)."""
    return value.quantize(PRICE_DIGITS, rounding=ROUND_HALF_UP)


def _pad(n: int) -> str:
    return f"{n:012d}"


def _ids_after(prefix: str, after_id: str) -> int | None:
    """For rows at the cursor's own timestamp: the id they must exceed (0: all qualify), or
    None when no id with this prefix sorts after ``after_id``."""
    if not after_id:
        return 0
    if after_id.startswith(prefix) and after_id[len(prefix):].isdigit():
        return int(after_id[len(prefix):])
    return 0 if prefix + _pad(0) > after_id else None


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value and value.tzinfo else value


class TrytonAdapter:
    name = "tryton"

    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        url: str = "http://127.0.0.1:8000"
        database: str = "tryton"
        user: str = "admin"
        password: SecretText = SecretStr("admin")
        warehouse: str | None = Field(None, description="Warehouse code; default: the first warehouse.")
        sale_state: Literal["quotation", "confirmed"] = Field(
            "confirmed", description="Where new sales stop: 'quotation' leaves them for review in Tryton.")
        timeout: float = Field(30, gt=0)
        attempts: int = Field(5, ge=1)

    def __init__(self, settings: "TrytonAdapter.Settings", transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.http = httpx.Client(base_url=settings.url, timeout=settings.timeout, transport=transport)
        self.retry = RetryPolicy(attempts=settings.attempts)
        self._auth: str | None = None
        self._context: dict[str, Any] = {}
        self._warehouse: int | None = None
        self._currency: str | None = None

    # ---- JSON-RPC ---------------------------------------------------------------------------
    def _post(self, method: str, params: list[Any], auth: bool = True) -> Any:
        headers = {"Authorization": self._auth} if auth and self._auth else {}
        try:
            response = self.http.post(f"/{self.settings.database}/rpc/", headers=headers,
                                      json={"id": next(_ids), "method": method, "params": encode(params)})
        except httpx.TimeoutException as exc:
            raise TransientErpError(self.name, f"{method} timed out") from exc
        except httpx.TransportError as exc:
            raise TransientErpError(self.name, f"{method}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 401 and auth:
            self._auth = None
            raise TransientErpError(self.name, f"{method}: session expired (401)", status=401)
        if response.status_code in (429, 503) or response.status_code >= 500:
            raise TransientErpError(self.name, f"{method}: HTTP {response.status_code}",
                                    status=response.status_code,
                                    retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 400:
            raise PermanentErpError(self.name, f"{method}: HTTP {response.status_code}: {response.text[:300]}",
                                    status=response.status_code)
        body = response.json()
        if body.get("error"):
            raise self._error(method, body["error"])
        return decode(body.get("result"))

    def _error(self, method: str, error: Any) -> Exception:
        kind = error[0] if isinstance(error, list) and error else str(error)
        detail = error[1] if isinstance(error, list) and len(error) > 1 else ""
        if isinstance(detail, list):  # [message, description, ...domain/field dumps]
            detail = " ".join(d for d in detail if isinstance(d, str) and d)
        if kind in ("ConcurrencyException", "TooManyRequests", "DatabaseOperationalError"):
            return TransientErpError(self.name, f"{method}: {kind}: {detail}", code=kind)
        if kind == "UserError" and '"Session"' in str(detail):
            # our session record was removed (expired, cleaned up at another login): log in again
            self._auth = None
            return TransientErpError(self.name, f"{method}: session no longer exists", code="session")
        if kind in ("NotLogged", "LoginException"):
            self._auth = None
            asked = f": {detail}" if kind == "LoginException" and detail else ""   # what it asks for
            return TransientErpError(self.name, f"{method}: {kind}{asked}", code=kind)
        return PermanentErpError(self.name, f"{method}: {kind}: {detail}", code=kind)

    def _login(self) -> None:
        s = self.settings
        try:
            result = self._post("common.db.login",
                                [s.user, {"password": s.password.get_secret_value()}, "en"], auth=False)
        except PermanentErpError as exc:
            if exc.status not in (401, 403):
                raise
            result = None                      # Tryton answers a wrong password with 401 (an HTML page)
        except TransientErpError as exc:
            if exc.code != "LoginException":   # Tryton asks for a login parameter pssync has not given
                raise
            asked = exc.erp_message.split(": ", 2)[2:] or ["?"]
            raise self._refused(f"asks for more than a password to log in user {s.user!r} "
                                f"(it asks for: {asked[0]}; a second factor?)") from None
        if not result:
            raise self._refused(f"refused the login of user {s.user!r}")
        uid, token = result[0], result[1]
        self._auth = "Session " + base64.b64encode(f"{s.user}:{uid}:{token}".encode()).decode()
        self._context = self._post("model.res.user.get_preferences", [True, {}])

    def check(self) -> None:
        if self._auth is None:
            with_retries(self._login, self.retry, what="tryton login")

    def _refused(self, what: str) -> ErpLoginRefused:
        s = self.settings
        return ErpLoginRefused(self.name,
            f"erp.{self.name}.password: Tryton at {s.url} (database {s.database!r}) {what}: "
            f"check erp.{self.name}.user and erp.{self.name}.password (env PSSYNC_ERP__{self.name.upper()}__PASSWORD)")

    def call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None,
             retry: bool = True) -> Any:
        def once() -> Any:
            if self._auth is None:
                self._login()
            return self._post(f"model.{model}.{method}", [*args, {**self._context, **(context or {})}])
        if not retry:
            return once()
        return with_retries(once, self.retry, what=f"tryton {model}.{method}")

    def search_read(self, model: str, domain: list, fields: list[str], *, limit: int | None = None,
                    offset: int = 0, order: list | None = None, context: dict | None = None,
                    retry: bool = True) -> list[dict]:
        return self.call(model, "search_read", domain, offset, limit, order, fields, context=context,
                         retry=retry)

    # ---- reference data ---------------------------------------------------------------------
    @property
    def warehouse(self) -> int:
        if self._warehouse is None:
            domain: list = [("type", "=", "warehouse")]
            if self.settings.warehouse:
                domain.append(("code", "=", self.settings.warehouse))
            found = self.search_read("stock.location", domain, ["id"], limit=1, order=[("id", "ASC")])
            if not found:
                raise PermanentErpError(self.name, f"no warehouse {self.settings.warehouse or ''} in Tryton")
            self._warehouse = found[0]["id"]
        return self._warehouse

    @property
    def currency(self) -> str:
        if self._currency is None:
            company = self._context.get("company") or (self.call("res.user", "get_preferences", True) or {}).get("company")
            rows = self.search_read("company.company", [("id", "=", company)], ["currency.code"])
            self._currency = rows[0]["currency."]["code"] if rows and rows[0].get("currency.") else "EUR"
        return self._currency

    def _levels(self, product_ids: list[int]) -> dict[int, tuple[str, Decimal, Decimal]]:
        rows = self.search_read("product.product", [("id", "in", product_ids)],
                                ["code", "quantity", "forecast_quantity"],
                                context={"locations": [self.warehouse], "with_childs": True})
        return {r["id"]: (r["code"] or "", Decimal(str(r["forecast_quantity"])), Decimal(str(r["quantity"])))
                for r in rows}

    # ---- change feeds -----------------------------------------------------------------------
    def _keyset(self, model: str, since: dt.datetime | None, after_id: str, fields: list[str],
                limit: int, extra: list | None = None, prefix: str = "") -> list[tuple[dt.datetime, dict]]:
        """Rows of ``model`` whose (coalesce(write_date, create_date), prefix + padded id) sorts
        after (since, after_id), in that order."""
        base = list(extra or [])
        fields = sorted(set(fields) | {"id", "create_date", "write_date"})
        since_n = _naive(since)
        if since_n is None:
            created = [*base, ("write_date", "=", None)]
            written = [*base, ("write_date", "!=", None)]
        else:
            same_ts = _ids_after(prefix, after_id)   # which ids at exactly ``since`` still qualify
            def window(field: str) -> list:
                later = (field, ">", since_n)
                if same_ts is None:
                    return [later]
                return [["OR", later, [(field, "=", since_n), ("id", ">", same_ts)]]]
            created = [*base, ("write_date", "=", None), *window("create_date")]
            written = [*base, *window("write_date")]
        rows = self.search_read(model, created, fields, limit=limit, order=[("create_date", "ASC"), ("id", "ASC")])
        rows += self.search_read(model, written, fields, limit=limit, order=[("write_date", "ASC"), ("id", "ASC")])
        keyed = [((r["write_date"] or r["create_date"]), r) for r in rows]
        keyed.sort(key=lambda item: (item[0], item[1]["id"]))
        return keyed[:limit]

    def changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                limit: int = 500) -> list[Change]:
        if kind == "stock":
            return self._stock_changes(since, after_id, limit)
        if kind in ("price", "product"):
            return self._catalogue_changes(kind, since, after_id, limit)
        if kind == "order_status":
            rows = self._keyset("sale.sale", since, after_id, ["reference", "state", "number"], limit)
            return [Change("order_status", str(r["id"]),
                           OrderStatus(str(r["id"]), r["reference"], r["state"], ts),
                           ts, _pad(r["id"]), f"sale.sale:{r['id']}:{ts.isoformat()}") for ts, r in rows]
        if kind == "shipment":
            return self._shipment_changes(since, after_id, limit)
        raise ValueError(f"unknown change kind {kind!r}")

    def _stock_changes(self, since: dt.datetime | None, after_id: str, limit: int) -> list[Change]:
        moves = self._keyset("stock.move", since, after_id, ["product"], limit)
        # as_of is taken BEFORE reading quantities: a level must never claim to include orders
        # the ERP acknowledged after it was measured (that would publish too much stock)
        measured = dt.datetime.now(UTC)
        levels = self._levels(sorted({m["product"] for _, m in moves})) if moves else {}
        out = []
        for ts, move in moves:
            code, available, on_hand = levels.get(move["product"], ("", Decimal(0), Decimal(0)))
            if not code:
                continue
            record = StockLevel(code, str(move["product"]), available, str(self.warehouse), measured, on_hand)
            out.append(Change("stock", code, record, ts, _pad(move["id"]),
                              f"stock.move:{move['id']}:{ts.isoformat()}"))
        return out

    def _catalogue_changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                           limit: int) -> list[Change]:
        """Prices and catalogue fields live on templates and, per variant, on products: both are
        followed, in one (ts, 't<id>'|'p<id>') order; a template change fans out to its variants."""
        inactive_too = [("active", "in", [True, False])]
        sources = [(ts, "t", row) for ts, row in self._keyset(
            "product.template", since, after_id, ["products"], limit, inactive_too, prefix="t")]
        sources += [(ts, "p", row) for ts, row in self._keyset(
            "product.product", since, after_id, [], limit, inactive_too, prefix="p")]
        sources.sort(key=lambda item: (item[0], item[1] + _pad(item[2]["id"])))
        sources = sources[:limit]
        wanted = sorted({pid for _, origin, row in sources
                         for pid in (row["products"] if origin == "t" else [row["id"]])})
        products = {r["id"]: r for r in self.search_read(
            "product.product", [("id", "in", wanted), *inactive_too],
            ["code", "active", "list_price_used", "template.name", "template.active"])} if wanted else {}
        out: list[Change] = []
        for ts, origin, row in sources:
            for pid in (row["products"] if origin == "t" else [row["id"]]):
                product = products.get(pid)
                if not product or not product["code"]:
                    continue
                code, template = product["code"], product.get("template.") or {}
                version = f"product.{'template' if origin == 't' else 'product'}:{row['id']}:{ts.isoformat()}:{pid}"
                if kind == "price":
                    record: Any = Price(code, str(pid), Decimal(str(product["list_price_used"] or 0)),
                                        self.currency, ts)
                else:
                    record = Product(code, str(pid), template.get("name", ""),
                                     bool(product["active"] and template.get("active", True)), ts)
                out.append(Change(kind, code, record, ts, origin + _pad(row["id"]), version))
        return out

    def _shipment_changes(self, since: dt.datetime | None, after_id: str, limit: int) -> list[Change]:
        rows = self._keyset("stock.shipment.out", since, after_id, ["number", "reference", "state"], limit)
        ids = [r["id"] for _, r in rows]
        sales = self.search_read("sale.sale", [("shipments", "in", ids)], ["reference", "shipments"]) if ids else []
        by_shipment = {s: sale for sale in sales for s in sale["shipments"]}
        out = []
        for ts, r in rows:
            sale = by_shipment.get(r["id"])
            record = Shipment(str(r["id"]), str(sale["id"]) if sale else None,
                              sale["reference"] if sale else None, r["state"], r["reference"] or None,
                              None, ts)
            out.append(Change("shipment", str(r["id"]), record, ts, _pad(r["id"]),
                              f"stock.shipment.out:{r['id']}:{ts.isoformat()}"))
        return out

    def stock_snapshot(self, page: str | None = None, page_size: int = 500) -> StockPage:
        offset = int(page or 0)
        measured = dt.datetime.now(UTC)   # before the read, as in _stock_changes
        rows = self.search_read("product.product", [("type", "=", "goods")],
                                ["code", "quantity", "forecast_quantity"], limit=page_size, offset=offset,
                                order=[("id", "ASC")],
                                context={"locations": [self.warehouse], "with_childs": True})
        levels = [StockLevel(r["code"], str(r["id"]), Decimal(str(r["forecast_quantity"])),
                             str(self.warehouse), measured, Decimal(str(r["quantity"])))
                  for r in rows if r["code"]]
        return StockPage(levels, str(offset + page_size) if len(rows) == page_size else None)

    # ---- sales orders -----------------------------------------------------------------------
    def _sale(self, shop_reference: str, retry: bool = True) -> dict | None:
        found = self.search_read("sale.sale", [("reference", "=", shop_reference)],
                                 ["id", "state"], order=[("id", "ASC")], retry=retry)
        live = [s for s in found if s["state"] != "cancelled"]
        return (live or found or [None])[0]

    def find_sales_order(self, shop_reference: str) -> str | None:
        sale = self._sale(shop_reference)
        return str(sale["id"]) if sale else None

    def _party(self, customer: Customer, retry: bool = True) -> int:
        found = self.search_read("party.party", [("code", "=", customer.external_id)], ["id"],
                                 retry=retry)
        if found:
            return found[0]["id"]
        values: dict[str, Any] = {"name": customer.name, "code": customer.external_id}
        if customer.email:
            values["contact_mechanisms"] = [["create", [{"type": "email", "value": customer.email}]]]
        return self.call("party.party", "create", [values], retry=retry)[0]

    def _address(self, party: int, address: Address, retry: bool = True) -> int:
        countries = self.search_read("country.country", [("code", "=", address.country_code.upper())],
                                     ["id"], retry=retry)
        if not countries:
            raise PermanentErpError(self.name, f"unknown country code {address.country_code!r}", code="validation")
        street = "\n".join(filter(None, [address.street, address.street2]))
        found = self.search_read("party.address", [("party", "=", party), ("street", "=", street),
                                                   ("postal_code", "=", address.postal_code),
                                                   ("city", "=", address.city)], ["id"], retry=retry)
        if found:
            return found[0]["id"]
        return self.call("party.address", "create", [{
            "party": party, "party_name": address.name, "street": street,
            "postal_code": address.postal_code, "city": address.city, "country": countries[0]["id"]}],
            retry=retry)[0]

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        """Find-then-create retried as a whole, each call made once: Tryton commits a create whose
        reply was lost (timeout, gateway 504), so the retry finds that sale instead of making a
        second one."""
        return with_retries(lambda: self._create_sales_order(order), self.retry,
                            what=f"tryton create order {order.shop_reference}")

    def _create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        existing = self._sale(order.shop_reference, retry=False)
        if existing and existing["state"] != "cancelled":
            self._advance(existing, retry=False)
            return SalesOrderResult(str(existing["id"]), False)
        skus = sorted({line.sku for line in order.lines})
        products = {p["code"]: p for p in self.search_read(
            "product.product", [("code", "in", skus)], ["id", "code", "default_uom"], retry=False)}
        unknown = [s for s in skus if s not in products]
        if unknown:
            raise UnknownProduct(self.name, f"order {order.shop_reference}: unknown product code(s) "
                                            f"{', '.join(unknown)}", code="unknown_product")
        currencies = self.search_read("currency.currency", [("code", "=", order.currency)], ["id"],
                                      retry=False)
        if not currencies:
            raise PermanentErpError(self.name, f"order {order.shop_reference}: unknown currency "
                                               f"{order.currency}", code="validation")
        party = self._party(order.customer, retry=False)
        lines = [{"type": "line", "product": products[l.sku]["id"], "quantity": float(l.quantity),
                  "unit": products[l.sku]["default_uom"], "unit_price": _price(l.unit_price),
                  "description": l.description or l.sku}
                 for l in order.lines]
        sale_id = self.call("sale.sale", "create", [{
            "party": party, "reference": order.shop_reference, "currency": currencies[0]["id"],
            "invoice_address": self._address(party, order.invoice_address, retry=False),
            "shipment_address": self._address(party, order.shipment_address, retry=False),
            "warehouse": self.warehouse, "sale_date": order.ordered_at.date(),
            "description": f"Shop order {order.shop_reference}", "comment": order.comment,
            "lines": [["create", lines]]}], retry=False)[0]
        self._advance({"id": sale_id, "state": "draft"}, retry=False)
        return SalesOrderResult(str(sale_id), True)

    def _advance(self, sale: dict, retry: bool = True) -> None:
        """Bring a sale created by us to the configured state (also after a crash between steps)."""
        if sale["state"] == "draft":
            self.call("sale.sale", "quote", [sale["id"]], retry=retry)
            sale = {**sale, "state": "quotation"}
        if sale["state"] == "quotation" and self.settings.sale_state == "confirmed":
            self.call("sale.sale", "confirm", [sale["id"]], retry=retry)

    def cancel_sales_order(self, shop_reference: str) -> str:
        sale = self._sale(shop_reference)
        if sale is None:
            raise NotFound(self.name, f"no sale with reference {shop_reference!r}", code="not_found")
        state = sale["state"]
        if state == "cancelled":
            return str(sale["id"])
        if state in ("processing", "done"):
            self._withdraw(sale, shop_reference)
            return str(sale["id"])
        if state == "confirmed":
            self.call("sale.sale", "draft", [sale["id"]])
        self.call("sale.sale", "cancel", [sale["id"]])
        return str(sale["id"])

    def _withdraw(self, sale: dict, shop_reference: str) -> None:
        """Cancel a sale Tryton has already processed, as a person would: its outgoing shipments and
        its draft invoices cancelled, the cancelled moves and invoices ignored (the shipment and
        invoice exception wizards' "ignore"), then processed again, which leaves it done with nothing
        shipped or invoiced and its stock released. Refused when goods have left or an invoice is
        posted: that needs a return or a credit note, which only a person can decide."""
        where = f"sale {sale['id']} ({shop_reference})"
        (full,) = self.call("sale.sale", "read", [sale["id"]], ["shipments", "invoices", "lines"])
        shipments = self.call("stock.shipment.out", "read", full["shipments"], ["state", "number"]) \
            if full["shipments"] else []
        invoices = self.call("account.invoice", "read", full["invoices"], ["state", "number"]) \
            if full["invoices"] else []
        if shipped := [s.get("number") or s["id"] for s in shipments if s["state"] == "done"]:
            raise PermanentErpError(self.name, f"{where}: shipment(s) {shipped} already done (the goods left): "
                                               "cancelling needs a customer return in Tryton", code="state")
        if posted := [i.get("number") or i["id"] for i in invoices if i["state"] in ("posted", "paid")]:
            raise PermanentErpError(self.name, f"{where}: invoice(s) {posted} already posted: cancelling needs "
                                               "a credit note in Tryton", code="state")
        if open_shipments := [s["id"] for s in shipments if s["state"] != "cancelled"]:
            self.call("stock.shipment.out", "cancel", open_shipments)
        if open_invoices := [i["id"] for i in invoices if i["state"] != "cancelled"]:
            self.call("account.invoice", "cancel", open_invoices)
        for line in self.call("sale.line", "read", full["lines"], ["moves", "moves_ignored"]):
            if todo := sorted(set(line["moves"]) - set(line["moves_ignored"])):
                self.call("sale.line", "write", [line["id"]], {"moves_ignored": [["add", todo]]})
        if full["invoices"]:
            self.call("sale.sale", "write", [sale["id"]], {"invoices_ignored": [["add", full["invoices"]]]})
        self.call("sale.sale", "process", [sale["id"]])

    def close(self) -> None:
        self.http.close()
