"""Infor M3 through the MI REST API behind the ION API gateway
(``{iu}/{ti}/M3/m3api-rest/v2/execute/{program}/{transaction}``).

Authentication follows the ``.ionapi`` credentials of a backend-service authorized app: the token
endpoint is ``pu + ot``, the grant is the resource-owner password grant with the service
account's ``saak``/``sask`` as username/password and ``ci``/``cs`` as the client. MI errors come
back inside an HTTP 200 (``results[].errorMessage``) and are raised as permanent errors here.
Which transactions are used, and which of them are unverified: erp/VENDORS.md."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pssync.erp.base import (Change, ChangeKind, OrderStatus, Price, Product, SalesOrder,
                      SalesOrderResult, Shipment, StockLevel, StockPage)
from pssync.erp.errors import NotFound, PermanentErpError, UnknownProduct
from pssync.erp.http import ClientCredentials, ErpHttp
from pssync.retry import RetryPolicy, with_retries
from pssync.settings import SecretText

ERP = "infor"
ID_WIDTH = 20
IONAPI_FIELDS = ("ti", "iu", "pu", "ot", "ci", "cs", "saak", "sask")


class M3Transactions(BaseModel):
    """``PROGRAM/Transaction`` for each step; override when the tenant differs."""
    model_config = ConfigDict(extra="forbid")

    add_head: str = "OIS100MI/AddBatchHead"
    add_line: str = "OIS100MI/AddBatchLine"
    add_address: str | None = "OIS100MI/AddBatchAddress"
    confirm: str = "OIS100MI/Confirm"
    search_orders: str = "OIS100MI/SearchHead"
    get_order: str = "OIS100MI/GetHead"
    cancel: str = "OIS100MI/DltHead"
    stock: str = "MMS060MI/LstBalID"
    items: str = "MMS200MI/LstByNumber"
    prices: str = "OIS017MI/LstBasePrice"
    deliveries: str = "MWS410MI/LstDeliveries"

    @field_validator("*")
    @classmethod
    def _shape(cls, value: str | None) -> str | None:
        if value is not None and (value.count("/") != 1 or not all(value.split("/"))):
            raise ValueError("must look like PROGRAM/Transaction, e.g. OIS100MI/AddBatchHead")
        return value


class InforSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ionapi_file: Path | None = None       # the downloaded .ionapi; explicit fields win over it
    ti: str | None = None                  # tenant
    iu: str | None = None                  # ION API gateway URL
    pu: str | None = None                  # SSO (token) base URL
    ot: str | None = None                  # token path under pu
    ci: str | None = None                  # client id
    cs: SecretText | None = None            # client secret
    saak: str | None = None                # service account access key
    sask: SecretText | None = None          # service account secret key
    token_url: str | None = None           # default: pu + ot
    company: int | None = None             # M3 CONO; default: the service account's
    division: str | None = None
    customer_number: str                   # CUNO the shop's orders are booked on
    order_type: str                        # ORTP
    facility: str                          # FACI
    warehouse: str                         # WHLO
    price_list: str | None = None          # PRRF for price changes
    currency: str = "EUR"
    delivery_address_type: int = 1         # ADRT of the ship-to address on the batch order
    order_query: str = 'CUOR:"{reference}"'       # SQRY finding one shop order
    orders_query: str = "CUNO:{customer}"          # SQRY listing the shop's orders
    transactions: M3Transactions = Field(default_factory=M3Transactions)
    timeout: float = 30.0
    retry_attempts: int = Field(5, ge=1)
    retry_base_delay: float = Field(0.2, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _read_ionapi(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("ionapi_file"):
            return data
        path = Path(data["ionapi_file"])
        try:
            ionapi = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"ionapi_file {str(path)!r} unreadable: {type(exc).__name__}")
        merged = {k: ionapi[k] for k in IONAPI_FIELDS if ionapi.get(k)}
        merged.update({k: v for k, v in data.items() if v is not None})
        return merged

    @model_validator(mode="after")
    def _complete(self) -> "InforSettings":
        missing = [f for f in IONAPI_FIELDS if getattr(self, f) in (None, "")
                   and not (f in ("pu", "ot") and self.token_url)]
        if missing:
            raise ValueError(f"missing ION API credential(s) {', '.join(missing)}: give "
                             f"ionapi_file or the fields themselves")
        if "{reference}" not in self.order_query:
            raise ValueError("order_query must contain {reference}")
        return self

    def token_endpoint(self) -> str:
        if self.token_url:
            return self.token_url
        return (self.pu or "").rstrip("/") + "/" + (self.ot or "").lstrip("/")


def pad(value: Any) -> str:
    text = str(value).strip()
    return text.zfill(ID_WIDTH) if text.isdigit() else text


def m3_ts(row: dict[str, Any]) -> dt.datetime:
    """LMTS (ms since the epoch) when the transaction returns it, else the date LMDT."""
    lmts = str(row.get("LMTS") or "").strip()
    if lmts.isdigit():
        return dt.datetime.fromtimestamp(int(lmts) / 1000, dt.timezone.utc)
    lmdt = str(row.get("LMDT") or "").strip()
    if len(lmdt) == 8 and lmdt.isdigit():
        return dt.datetime.strptime(lmdt, "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    raise PermanentErpError(ERP, f"record without LMTS/LMDT change stamp: {sorted(row)}")


def stamp(row: dict[str, Any]) -> str:
    return str(row.get("LMTS") or row.get("LMDT") or "").strip()


def dec(value: Any) -> Decimal:
    text = str(value or "0").strip() or "0"
    return Decimal(text)


def m3_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def text(row: dict[str, Any], name: str) -> str:
    return str(row.get(name) or "").strip()


def after(changes: Iterable[Change], since: dt.datetime | None, after_id: str,
          limit: int) -> list[Change]:
    chosen = [c for c in changes if since is None or (c.ts, c.row_id) > (since, after_id)]
    chosen.sort(key=lambda c: (c.ts, c.row_id))
    return chosen[:limit]


class InforAdapter:
    name = ERP
    Settings = InforSettings

    def __init__(self, settings: InforSettings) -> None:
        self.settings = s = settings
        self.tx = s.transactions
        self.retry = RetryPolicy(attempts=s.retry_attempts, base_delay=s.retry_base_delay)
        assert s.cs is not None and s.sask is not None   # _complete guarantees it
        self._auth = ClientCredentials(
            ERP, s.token_endpoint(), s.ci or "", s.cs.get_secret_value(), basic=False,
            extra={"grant_type": "password", "username": s.saak or "",
                   "password": s.sask.get_secret_value()})
        self.http = ErpHttp(ERP, (s.iu or "").rstrip("/"), auth=self._auth, timeout=s.timeout,
                            headers={"Accept": "application/json"}, retry=self.retry,
                            permanent=self._permanent)
        self.prefix = f"/{s.ti}/M3/m3api-rest/v2/execute"
        self._order_refs: dict[str, tuple[str, str] | None] = {}

    # -- MI calls -------------------------------------------------------------------------------
    def _permanent(self, response: httpx.Response, message: str) -> PermanentErpError:
        return PermanentErpError(ERP, message, status=response.status_code)

    def mi(self, transaction: str, fields: dict[str, Any] | None = None, *, retry: bool = True,
           maxrecs: int | None = None) -> list[dict[str, Any]]:
        program, name = transaction.split("/")
        params = {k: str(v) for k, v in (fields or {}).items() if v not in (None, "")}
        if self.settings.company is not None:
            params["cono"] = str(self.settings.company)
        if self.settings.division:
            params["divi"] = self.settings.division
        if maxrecs is not None:
            params["maxrecs"] = str(maxrecs)
        response = self.http.request("GET", f"{self.prefix}/{program}/{name}", params=params,
                                     retry=retry)
        try:
            body = response.json()
        except ValueError:
            raise PermanentErpError(ERP, f"{transaction}: answer is not JSON",
                                    status=response.status_code) from None
        results = body.get("results") or [] if isinstance(body, dict) else []
        failed = [r for r in results if str(r.get("errorMessage") or "").strip()]
        if failed or (isinstance(body, dict) and body.get("nrOfFailedTransactions")):
            first = failed[0] if failed else {}
            message = " ".join(str(first.get("errorMessage") or "failed").split())
            error_field = text(first, "errorField")
            cls = UnknownProduct if error_field == "ITNO" else PermanentErpError
            detail = (f" (field {error_field}, code {text(first, 'errorCode')})"
                      if error_field else "")
            raise cls(ERP, f"{transaction}: {message}{detail}", status=response.status_code,
                      code=text(first, "errorCode") or None)
        if isinstance(body, dict) and body.get("wasTerminated"):
            raise PermanentErpError(ERP, f"{transaction} terminated: "
                                         f"{body.get('terminationReason') or 'no reason given'}")
        return [record for r in results for record in r.get("records") or []]

    # -- sales orders ---------------------------------------------------------------------------
    def _find(self, shop_reference: str, retry: bool = True) -> dict[str, Any] | None:
        if '"' in shop_reference:
            raise PermanentErpError(ERP, f"reference {shop_reference!r} cannot be searched")
        query = self.settings.order_query.format(reference=shop_reference)
        rows = self.mi(self.tx.search_orders, {"SQRY": query}, retry=retry, maxrecs=0)
        # the search is an index: trust only exact CUOR matches of our customer
        matches = [r for r in rows if text(r, "CUOR") == shop_reference
                   and text(r, "CUNO") in ("", self.settings.customer_number)]
        return min(matches, key=lambda r: text(r, "ORNO")) if matches else None

    def find_sales_order(self, shop_reference: str) -> str | None:
        found = self._find(shop_reference)
        return text(found, "ORNO") if found else None

    def _address_fields(self, order: SalesOrder) -> dict[str, Any]:
        a = order.shipment_address
        return {"ADRT": self.settings.delivery_address_type,
                "CUNM": (a.company or a.name)[:36], "CUA1": a.street[:36], "CUA2": a.street2[:36],
                "CUA3": a.name[:36] if a.company else "", "PONO": a.postal_code[:10],
                "TOWN": a.city[:20], "CSCD": a.country_code, "PHNO": a.phone[:16]}

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        s = self.settings

        def attempt() -> SalesOrderResult:
            found = self._find(order.shop_reference, retry=False)
            if found:
                return SalesOrderResult(text(found, "ORNO"), created=False)
            date = order.ordered_at.astimezone(dt.timezone.utc).strftime("%Y%m%d")
            head = self.mi(self.tx.add_head, {
                "CUNO": s.customer_number, "ORTP": s.order_type, "FACI": s.facility,
                "WHLO": s.warehouse, "CUOR": order.shop_reference, "CUCD": order.currency,
                "ORDT": date, "CUDT": date, "YREF": order.customer.name[:30]}, retry=False)
            temporary = text(head[0], "ORNO") if head else ""
            if not temporary:
                raise PermanentErpError(ERP, f"{self.tx.add_head} returned no order number")
            for line in order.lines:
                self.mi(self.tx.add_line, {
                    "ORNO": temporary, "ITNO": line.sku, "ORQT": m3_number(line.quantity),
                    "SAPR": m3_number(line.unit_price), "WHLO": s.warehouse}, retry=False)
            if self.tx.add_address:
                self.mi(self.tx.add_address, {"ORNO": temporary, **self._address_fields(order)},
                        retry=False)
            confirmed = self.mi(self.tx.confirm, {"ORNO": temporary}, retry=False)
            final = text(confirmed[0], "ORNO") if confirmed else ""
            return SalesOrderResult(final or temporary, created=True)

        return with_retries(attempt, self.retry, what=f"{ERP} create order {order.shop_reference}")

    def cancel_sales_order(self, shop_reference: str) -> str:
        found = self._find(shop_reference)
        if found is None:
            raise NotFound(ERP, f"no customer order with CUOR {shop_reference!r} for customer "
                                f"{self.settings.customer_number}")
        orno = text(found, "ORNO")
        self.mi(self.tx.cancel, {"ORNO": orno})
        return orno

    # -- change feeds ---------------------------------------------------------------------------
    def changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                limit: int = 500) -> list[Change]:
        builders = {"stock": self._stock_changes, "product": self._product_changes,
                    "price": self._price_changes, "order_status": self._status_changes,
                    "shipment": self._shipment_changes}
        # MI list transactions have no changed-since filter: read the list, keep what is after
        return after(builders[kind](), since, after_id, limit)

    def _stock_levels(self) -> list[tuple[StockLevel, str]]:
        """One level per item in the warehouse, summed over its balance identities."""
        per_item: dict[str, list[dict[str, Any]]] = {}
        for row in self.mi(self.tx.stock, {"WHLO": self.settings.warehouse}, maxrecs=0):
            per_item.setdefault(text(row, "ITNO"), []).append(row)
        levels = []
        for itno in sorted(per_item):
            rows = per_item[itno]
            on_hand = sum((dec(r.get("STQT")) for r in rows), Decimal(0))
            allocated = sum((dec(r.get("ALQT")) for r in rows), Decimal(0))
            newest = max(rows, key=m3_ts)
            level = StockLevel(itno, itno, on_hand - allocated, self.settings.warehouse,
                               m3_ts(newest), on_hand)
            levels.append((level, f"{stamp(newest)}:{on_hand}:{allocated}"))
        return levels

    def _stock_changes(self) -> list[Change]:
        return [Change("stock", level.sku, level, level.as_of, level.sku,
                       f"MITBAL:{self.settings.warehouse}:{level.sku}:{version}")
                for level, version in self._stock_levels()]

    def _product_changes(self) -> list[Change]:
        changes = []
        for row in self.mi(self.tx.items, {}, maxrecs=0):
            itno, ts = text(row, "ITNO"), m3_ts(row)
            product = Product(itno, itno, text(row, "ITDS"), text(row, "STAT") == "20", ts,
                              {"unit": text(row, "UNMS")} if text(row, "UNMS") else {})
            changes.append(Change("product", itno, product, ts, itno,
                                  f"MITMAS:{itno}:{stamp(row)}"))
        return changes

    def _price_changes(self) -> list[Change]:
        if not self.settings.price_list:
            raise PermanentErpError(ERP, "price changes need erp.infor.price_list (PRRF)")
        changes = []
        rows = self.mi(self.tx.prices, {"PRRF": self.settings.price_list,
                                        "CUCD": self.settings.currency}, maxrecs=0)
        for row in rows:
            itno, ts = text(row, "ITNO"), m3_ts(row)
            currency = text(row, "CUCD") or self.settings.currency
            price = Price(itno, itno, dec(row.get("SAPR")), currency, ts)
            changes.append(Change("price", itno, price, ts, itno,
                                  f"OPRBAS:{self.settings.price_list}:{itno}:{stamp(row)}"))
        return changes

    def _orders(self) -> list[dict[str, Any]]:
        query = self.settings.orders_query.format(customer=self.settings.customer_number)
        return [r for r in self.mi(self.tx.search_orders, {"SQRY": query}, maxrecs=0)
                if text(r, "CUNO") in ("", self.settings.customer_number)]

    def _status_changes(self) -> list[Change]:
        changes = []
        for row in self._orders():
            orno, ts = text(row, "ORNO"), m3_ts(row)
            state = f"{text(row, 'ORSL')}-{text(row, 'ORST')}"   # lowest-highest line status
            status = OrderStatus(orno, text(row, "CUOR") or None, state, ts)
            changes.append(Change("order_status", orno, status, ts, pad(orno),
                                  f"OOHEAD:{orno}:{stamp(row)}:{state}"))
        return changes

    def _order_ref(self, orno: str) -> tuple[str, str] | None:
        """(customer number, CUOR) of an order, cached."""
        if orno not in self._order_refs:
            try:
                rows = self.mi(self.tx.get_order, {"ORNO": orno})
            except PermanentErpError:
                rows = []
            self._order_refs[orno] = ((text(rows[0], "CUNO"), text(rows[0], "CUOR"))
                                      if rows else None)
        return self._order_refs[orno]

    def _shipment_changes(self) -> list[Change]:
        changes = []
        for row in self.mi(self.tx.deliveries, {"WHLO": self.settings.warehouse}, maxrecs=0):
            orno = text(row, "RIDN")
            ref = self._order_ref(orno)
            if ref is None or ref[0] != self.settings.customer_number:
                continue                          # not an order of this shop
            dlix, ts = text(row, "DLIX"), m3_ts(row)
            shipment = Shipment(dlix, orno, ref[1] or None, text(row, "PGRS"),
                                text(row, "ETRN") or None, text(row, "FWNO") or None, ts)
            changes.append(Change("shipment", dlix, shipment, ts, pad(dlix),
                                  f"MHDISH:{dlix}:{stamp(row)}:{shipment.state}"))
        return changes

    # -- stock snapshot -------------------------------------------------------------------------
    def stock_snapshot(self, page: str | None = None, page_size: int = 500) -> StockPage:
        """Keyset pages on the item number; each page re-reads the warehouse list (MI lists
        cannot start after a key reliably)."""
        levels = [level for level, _ in self._stock_levels() if page is None or level.sku > page]
        chosen = levels[:page_size]
        more = len(levels) > page_size
        return StockPage(chosen, chosen[-1].sku if more and chosen else None)

    def check(self) -> None:
        self.http.check_credentials()

    def close(self) -> None:
        self.http.close()
        if isinstance(self._auth, ClientCredentials):
            self._auth.close()
