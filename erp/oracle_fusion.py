"""Oracle Fusion Cloud SCM through its REST API (``/fscmRestApi/resources/<version>``).

Sales orders go through Order Management's ``salesOrdersForOrderHub`` (created with the shop
reference as SourceTransactionNumber/SourceTransactionId, found with ``q=``), cancelled with a
``salesOrderActionRequests`` cancel action; stock comes from ``inventoryOnhandBalances``, products
and list prices from ``itemsV2``, shipments from ``shipments``. Authentication: OAuth 2.0 client
credentials. Endpoint choices and what is unverified: erp/VENDORS.md."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pssync.erp.base import (Change, ChangeKind, OrderStatus, Price, Product, SalesOrder,
                      SalesOrderResult, Shipment, StockLevel, StockPage)
from pssync.erp.errors import NotFound, PermanentErpError, UnknownProduct
from pssync.erp.http import ClientCredentials, ErpHttp, default_message
from pssync.retry import RetryPolicy, with_retries
from pssync.settings import SecretText

ERP = "oracle_fusion"
ID_WIDTH = 20


class OracleFusionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str                                  # https://<pod>.fa.<region>.oraclecloud.com
    api_version: str = "11.13.18.05"
    token_url: str                                 # the identity domain's /oauth2/v1/token
    client_id: str
    client_secret: SecretText
    scope: str | None = None
    source_transaction_system: str                 # the source system registered for the shop
    business_unit: str
    buying_party_number: str | None = None         # None: the shop customer's external id
    organization_code: str                         # fulfilment / inventory organization
    subinventory: str | None = None                # restrict stock to one subinventory
    uom_code: str = "Ea"
    currency: str = "EUR"                          # currency of item list prices
    cancel_action_code: str = "ORA_FOM_CANCEL_ORDER"
    cancel_reason_code: str | None = None
    unknown_item_codes: list[str] = Field(default_factory=list)  # extra o:errorCode values
    timeout: float = 30.0
    retry_attempts: int = Field(5, ge=1)
    retry_base_delay: float = Field(0.2, ge=0)
    page_size: int = Field(200, ge=1, le=500)

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


def pad(value: Any) -> str:
    text = str(value)
    return text.zfill(ID_WIDTH) if text.isdigit() else text


def parse_ts(value: Any) -> dt.datetime:
    ts = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.timezone.utc)
    return ts.astimezone(dt.timezone.utc)


def q_ts(ts: dt.datetime) -> str:
    return ts.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def q_literal(value: str) -> str:
    if "'" in value:
        raise PermanentErpError(ERP, f"value {value!r} cannot be used in a q filter")
    return f"'{value}'"


def dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def error_details(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    return [d for d in body.get("o:errorDetails") or [] if isinstance(d, dict)]


def oracle_message(response: httpx.Response) -> str:
    """Oracle's own words: the ``o:errorDetails`` details (with their codes), else detail/title."""
    details = [f"{d['detail']} ({d['o:errorCode']})" if d.get("o:errorCode") else str(d["detail"])
               for d in error_details(response) if d.get("detail")]
    if details:
        return "; ".join(details)
    return default_message(response)


def keyset(fetch: Callable[[int], tuple[list[Change], int, bool]], since: dt.datetime | None,
           after_id: str, limit: int) -> list[Change]:
    """Changes after (since, after_id), ordered, at most ``limit``, from a source whose pages
    (``fetch(offset)`` -> changes, rows consumed, more?) are ordered by ts, inclusive of
    ``since``, in no known order inside one ts: pages are read until every row up to the boundary
    ts of the answer has been seen."""
    found: list[Change] = []
    offset = 0
    while True:
        page, consumed, has_more = fetch(offset)
        offset += consumed
        found.extend(c for c in page if since is None or (c.ts, c.row_id) > (since, after_id))
        if not has_more or not consumed:
            break
        if len(found) >= limit and page:
            found.sort(key=lambda c: (c.ts, c.row_id))
            if page[-1].ts > found[limit - 1].ts:
                break
    found.sort(key=lambda c: (c.ts, c.row_id))
    return found[:limit]


@dataclass(frozen=True)
class Feed:
    resource: str
    base_q: str
    order_by: str
    build: Callable[[dict[str, Any]], Change | None]


class OracleFusionAdapter:
    name = ERP
    Settings = OracleFusionSettings

    def __init__(self, settings: OracleFusionSettings) -> None:
        self.settings = settings
        self.root = f"/fscmRestApi/resources/{settings.api_version}"
        self.retry = RetryPolicy(attempts=settings.retry_attempts,
                                 base_delay=settings.retry_base_delay)
        self._auth = ClientCredentials(ERP, settings.token_url, settings.client_id,
                                       settings.client_secret.get_secret_value(),
                                       scope=settings.scope)
        self.http = ErpHttp(ERP, settings.base_url, auth=self._auth, timeout=settings.timeout,
                            headers={"REST-Framework-Version": "4"}, message=oracle_message,
                            permanent=self._permanent, retry=self.retry)
        self._orders_by_number: dict[str, tuple[str, str] | None] = {}
        sys_q = f"SourceTransactionSystem={q_literal(settings.source_transaction_system)}"
        self.feeds: dict[ChangeKind, Feed] = {
            "stock": Feed("inventoryOnhandBalances", self._stock_q(),
                          "LastUpdateDate:asc,ItemNumber:asc,SubinventoryCode:asc", self._stock),
            "price": Feed("itemsV2", self._items_q(), "LastUpdateDate:asc,ItemId:asc",
                          self._price),
            "product": Feed("itemsV2", self._items_q(), "LastUpdateDate:asc,ItemId:asc",
                            self._product),
            "order_status": Feed("salesOrdersForOrderHub", sys_q,
                                 "LastUpdateDate:asc,HeaderId:asc", self._status),
            "shipment": Feed("shipments", "", "LastUpdateDate:asc,ShipmentId:asc",
                             self._shipment),
        }

    # -- errors ---------------------------------------------------------------------------------
    def _permanent(self, response: httpx.Response, text: str) -> PermanentErpError:
        details = error_details(response)
        code = next((str(d["o:errorCode"]) for d in details if d.get("o:errorCode")), None)
        unknown = any("ProductNumber" in str(d.get("o:errorPath", ""))
                      or str(d.get("o:errorCode")) in self.settings.unknown_item_codes
                      for d in details)
        cls = UnknownProduct if unknown else PermanentErpError
        return cls(ERP, text, status=response.status_code, code=code)

    # -- queries --------------------------------------------------------------------------------
    def _stock_q(self) -> str:
        q = f"OrganizationCode={q_literal(self.settings.organization_code)}"
        if self.settings.subinventory:
            q += f";SubinventoryCode={q_literal(self.settings.subinventory)}"
        return q

    def _items_q(self) -> str:
        return f"OrganizationCode={q_literal(self.settings.organization_code)}"

    def _get(self, resource: str, q: str, order_by: str, limit: int, offset: int,
             ) -> tuple[list[dict[str, Any]], bool]:
        params = {"onlyData": "true", "limit": str(limit), "offset": str(offset),
                  "orderBy": order_by, "totalResults": "false"}
        if q:
            params["q"] = q
        body = self.http.request("GET", f"{self.root}/{resource}", params=params).json()
        return list(body.get("items") or []), bool(body.get("hasMore"))

    # -- change feeds ---------------------------------------------------------------------------
    def changes(self, kind: ChangeKind, since: dt.datetime | None, after_id: str,
                limit: int = 500) -> list[Change]:
        feed = self.feeds[kind]
        q = feed.base_q
        if since is not None:
            q = ";".join(p for p in (q, f"LastUpdateDate>='{q_ts(since)}'") if p)
        size = min(self.settings.page_size, max(limit, 1))

        def fetch(offset: int) -> tuple[list[Change], int, bool]:
            rows, has_more = self._get(feed.resource, q, feed.order_by, size, offset)
            built = [feed.build(row) for row in rows]   # a builder may skip a row (None)
            return [c for c in built if c is not None], len(rows), has_more

        return keyset(fetch, since, after_id, limit)

    def _stock_level(self, row: dict[str, Any]) -> StockLevel:
        on_hand = dec(row.get("PrimaryQuantity"))
        warehouse = row.get("OrganizationCode") or self.settings.organization_code
        if row.get("SubinventoryCode"):
            warehouse = f"{warehouse}/{row['SubinventoryCode']}"
        return StockLevel(sku=row["ItemNumber"], erp_product_id=str(row.get("InventoryItemId")),
                          quantity=on_hand - dec(row.get("ReservedQuantity")),
                          warehouse=warehouse, as_of=parse_ts(row["LastUpdateDate"]),
                          on_hand=on_hand)

    def _stock(self, row: dict[str, Any]) -> Change:
        level = self._stock_level(row)
        row_id = f"{row['ItemNumber']}|{row.get('SubinventoryCode') or ''}"
        return Change("stock", level.sku, level, level.as_of, row_id,
                      f"inventoryOnhandBalances:{row_id}:{row['LastUpdateDate']}:{level.on_hand}")

    def _price(self, row: dict[str, Any]) -> Change | None:
        if row.get("ListPrice") is None:
            return None
        ts = parse_ts(row["LastUpdateDate"])
        price = Price(row["ItemNumber"], str(row["ItemId"]), dec(row["ListPrice"]),
                      self.settings.currency, ts)
        return Change("price", price.sku, price, ts, pad(row["ItemId"]),
                      f"itemsV2:{row['ItemId']}:{row['LastUpdateDate']}")

    def _product(self, row: dict[str, Any]) -> Change:
        ts = parse_ts(row["LastUpdateDate"])
        attributes = {k: str(row[v]) for k, v in (("uom", "PrimaryUOMValue"),
                                                   ("organization", "OrganizationCode"))
                      if row.get(v) is not None}
        product = Product(row["ItemNumber"], str(row["ItemId"]),
                          row.get("ItemDescription") or "",
                          row.get("ItemStatusValue") == "Active", ts, attributes)
        return Change("product", product.sku, product, ts, pad(row["ItemId"]),
                      f"itemsV2:{row['ItemId']}:{row['LastUpdateDate']}")

    def _status(self, row: dict[str, Any]) -> Change:
        ts = parse_ts(row["LastUpdateDate"])
        status = OrderStatus(str(row["HeaderId"]), row.get("SourceTransactionNumber"),
                             row.get("StatusCode") or "", ts)
        return Change("order_status", status.erp_order_id, status, ts, pad(row["HeaderId"]),
                      f"salesOrdersForOrderHub:{row['HeaderId']}:{row['LastUpdateDate']}:"
                      f"{status.state}")

    def _shipment(self, row: dict[str, Any]) -> Change | None:
        order = self._order_for_number(str(row.get("OrderNumber") or ""))
        if order is None:                       # not an order this shop created
            return None
        ts = parse_ts(row["LastUpdateDate"])
        shipment_id = str(row.get("ShipmentId") or row["Shipment"])
        shipment = Shipment(shipment_id, order[0], order[1], row.get("ShipmentStatusCode") or "",
                            row.get("TrackingNumber"), row.get("Carrier"), ts)
        return Change("shipment", shipment_id, shipment, ts, pad(shipment_id),
                      f"shipments:{shipment_id}:{row['LastUpdateDate']}")

    def _order_for_number(self, number: str) -> tuple[str, str] | None:
        """(HeaderId, shop reference) of the Order Management order ``number`` if this shop's
        source system created it."""
        if not number:
            return None
        if number not in self._orders_by_number:
            q = (f"OrderNumber={q_literal(number)};SourceTransactionSystem="
                 f"{q_literal(self.settings.source_transaction_system)}")
            rows, _ = self._get("salesOrdersForOrderHub", q, "HeaderId:asc", 1, 0)
            self._orders_by_number[number] = None if not rows else (
                str(rows[0]["HeaderId"]), rows[0].get("SourceTransactionNumber"))
        return self._orders_by_number[number]

    # -- stock snapshot -------------------------------------------------------------------------
    def stock_snapshot(self, page: str | None = None, page_size: int = 500) -> StockPage:
        offset = int(page or 0)
        rows, has_more = self._get("inventoryOnhandBalances", self._stock_q(),
                                   "ItemNumber:asc,SubinventoryCode:asc", page_size, offset)
        levels = [self._stock_level(row) for row in rows]
        return StockPage(levels, str(offset + len(rows)) if has_more and rows else None)

    # -- sales orders ---------------------------------------------------------------------------
    def _find(self, shop_reference: str, retry: bool = True) -> dict[str, Any] | None:
        q = (f"SourceTransactionNumber={q_literal(shop_reference)};SourceTransactionSystem="
             f"{q_literal(self.settings.source_transaction_system)}")
        params = {"onlyData": "true", "limit": "1", "q": q, "orderBy": "HeaderId:desc"}
        body = self.http.request("GET", f"{self.root}/salesOrdersForOrderHub", params=params,
                                 retry=retry).json()
        items = body.get("items") or []
        return items[0] if items else None

    def find_sales_order(self, shop_reference: str) -> str | None:
        found = self._find(shop_reference)
        return str(found["HeaderId"]) if found else None

    def order_body(self, order: SalesOrder) -> dict[str, Any]:
        s = self.settings
        lines = [{"SourceTransactionLineId": str(n), "SourceTransactionLineNumber": str(n),
                  "SourceTransactionScheduleId": "1", "SourceScheduleNumber": "1",
                  "TransactionCategoryCode": "ORDER", "ProductNumber": line.sku,
                  "OrderedQuantity": float(line.quantity), "OrderedUOMCode": s.uom_code,
                  "UnitListPrice": float(line.unit_price)}
                 for n, line in enumerate(order.lines, start=1)]
        return {"SourceTransactionNumber": order.shop_reference,
                "SourceTransactionId": order.shop_reference,
                "SourceTransactionSystem": s.source_transaction_system,
                "BusinessUnitName": s.business_unit,
                "RequestingBusinessUnitName": s.business_unit,
                "BuyingPartyNumber": s.buying_party_number or order.customer.external_id,
                "CustomerPONumber": order.shop_reference,
                "TransactionalCurrencyCode": order.currency,
                "TransactionOn": q_ts(order.ordered_at),
                "RequestedFulfillmentOrganizationCode": s.organization_code,
                "SubmittedFlag": True,
                "lines": lines}

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        body = self.order_body(order)

        def attempt() -> SalesOrderResult:
            # look before every (re)try: a POST that timed out may still have created the order
            found = self._find(order.shop_reference, retry=False)
            if found:
                return SalesOrderResult(str(found["HeaderId"]), created=False)
            response = self.http.request("POST", f"{self.root}/salesOrdersForOrderHub",
                                         json=body, retry=False)
            return SalesOrderResult(str(response.json()["HeaderId"]), created=True)

        return with_retries(attempt, self.retry, what=f"{ERP} create order {order.shop_reference}")

    def cancel_sales_order(self, shop_reference: str) -> str:
        found = self._find(shop_reference)
        if found is None:
            raise NotFound(ERP, f"no sales order with SourceTransactionNumber {shop_reference!r} "
                                f"from {self.settings.source_transaction_system}")
        header_id = str(found["HeaderId"])
        if found.get("StatusCode") in ("CANCELED", "CANCELLED"):
            return header_id
        body: dict[str, Any] = {"ActionCode": self.settings.cancel_action_code,
                                "ActionRequestTrackingId": time.time_ns() // 1_000_000,
                                "HeaderId": int(header_id),
                                "Comments": f"cancelled from shop order {shop_reference}"}
        if self.settings.cancel_reason_code:
            body["CancelReasonCode"] = self.settings.cancel_reason_code
        self.http.request("POST", f"{self.root}/salesOrderActionRequests", json=body)
        return header_id

    def check(self) -> None:
        self.http.check_credentials()

    def close(self) -> None:
        self.http.close()
        if isinstance(self._auth, ClientCredentials):
            self._auth.close()
