"""A local server shaped like the Oracle Fusion Cloud SCM REST API subset the adapter uses.

Written from Oracle's "REST API for Oracle Fusion Cloud SCM" pages (Sales Orders for Order Hub,
Sales Order Action Requests, Inventory On-Hand Balances, Items, Shipments) and the ADF REST
framework conventions those pages share: collection responses ``{"items", "count", "hasMore",
"limit", "offset"}``, the ``q`` filter (``Attr='v';Attr2>='v'``), ``orderBy=Attr:asc``,
``limit``/``offset`` paging, and error bodies ``{"title", "status", "o:errorDetails": [{"detail",
"o:errorCode", "o:errorPath"}]}``. It is NOT Oracle Fusion; it only follows our reading of those
documents, with in-memory state."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from tests.vendor_servers.base import Call, FaultKind, Reply, VendorServer

ROOT = "/fscmRestApi/resources/11.13.18.05"
_COND = re.compile(r"^\s*(\w+)\s*(>=|<=|=|>|<)\s*(.*?)\s*$")


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _split_q(q: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in q:
        if ch == "'":
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def _comparable(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name.endswith("Date"):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    text = str(value)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return Decimal(text)
    return text


def matches(row: dict[str, Any], q: str | None) -> bool:
    if not q:
        return True
    for cond in _split_q(q):
        m = _COND.match(cond)
        if not m:
            raise ValueError(f"bad q condition {cond!r}")
        name, op, raw = m.groups()
        raw = raw[1:-1] if raw.startswith("'") and raw.endswith("'") else raw
        left, right = _comparable(name, row.get(name)), _comparable(name, raw)
        if left is None:
            return False
        if type(left) is not type(right):
            left, right = str(left), str(right)
        ok = {"=": left == right, ">=": left >= right, "<=": left <= right,
              ">": left > right, "<": left < right}[op]
        if not ok:
            return False
    return True


def collection(rows: list[dict[str, Any]], query: dict[str, str]) -> Reply:
    try:
        selected = [r for r in rows if matches(r, query.get("q"))]
    except ValueError as exc:
        return Reply(400, {"title": "Bad Request", "status": "400",
                           "o:errorDetails": [{"detail": str(exc), "o:errorCode": "27023"}]})
    for spec in reversed([s for s in query.get("orderBy", "").split(",") if s]):
        name, _, direction = spec.partition(":")
        selected.sort(key=lambda r, n=name: (1, "") if r.get(n) is None
                      else (0, _comparable(n, r.get(n))), reverse=direction == "desc")
    limit = int(query.get("limit", 25))
    offset = int(query.get("offset", 0))
    page = selected[offset:offset + limit]
    return Reply(200, {"items": page, "count": len(page),
                       "hasMore": offset + limit < len(selected),
                       "limit": limit, "offset": offset})


def oracle_error(status: int, title: str, detail: str, code: str, path: str | None = None) -> Reply:
    item: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        item["o:errorPath"] = path
    return Reply(status, {"type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
                          "title": title, "status": str(status), "o:errorDetails": [item]},
                 {"Content-Type": "application/vnd.oracle.adf.error+json"})


class OracleFusionServer(VendorServer):
    token_path = "/oauth2/v1/token"

    def __init__(self, client_id: str = "pssync-client", client_secret: str = "fusion-s3cret",
                 scope: str = "urn:opc:resource:fusion:fa-example:fscm") -> None:
        super().__init__()
        self.client_id, self.client_secret, self.scope = client_id, client_secret, scope
        self.items: dict[str, dict[str, Any]] = {}
        self.balances: list[dict[str, Any]] = []
        self.orders: dict[int, dict[str, Any]] = {}
        self.shipments: list[dict[str, Any]] = []
        self.action_requests: list[dict[str, Any]] = []
        self._next_id = 300100000000
        self.clock = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def now(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=1)
        return self.clock

    # -- seed data ----------------------------------------------------------------------------
    def add_item(self, number: str, description: str, price: str, updated: dt.datetime,
                 active: bool = True, org: str = "M1") -> dict[str, Any]:
        with self.lock:
            item = {"ItemId": self._id(), "ItemNumber": number, "ItemDescription": description,
                    "OrganizationCode": org, "ItemStatusValue": "Active" if active else "Inactive",
                    "ListPrice": float(price), "PrimaryUOMValue": "Each",
                    "LastUpdateDate": iso(updated)}
            self.items[number] = item
            return item

    def add_balance(self, item_number: str, quantity: str, updated: dt.datetime,
                    org: str = "M1", subinventory: str = "Stores",
                    reserved: str = "0") -> dict[str, Any]:
        with self.lock:
            item = self.items[item_number]
            row = {"OrganizationCode": org, "InventoryItemId": item["ItemId"],
                   "ItemNumber": item_number, "ItemDescription": item["ItemDescription"],
                   "SubinventoryCode": subinventory, "PrimaryQuantity": float(quantity),
                   "ReservedQuantity": float(reserved), "PrimaryUOMCode": "Ea",
                   "LastUpdateDate": iso(updated)}
            self.balances.append(row)
            return row

    def update_item(self, number: str, updated: dt.datetime, **values: Any) -> dict[str, Any]:
        """An item edited in Product Management (e.g. ``ListPrice``, ``ItemStatusValue``)."""
        with self.lock:
            item = self.items[number]
            item.update(values, LastUpdateDate=iso(updated))
            return item

    def set_balance(self, item_number: str, quantity: str, updated: dt.datetime,
                    org: str = "M1", subinventory: str = "Stores") -> dict[str, Any]:
        """The on-hand balance of the item in that subinventory is now ``quantity`` (a row is
        added if there was none)."""
        with self.lock:
            for row in self.balances:
                if (row["ItemNumber"], row["OrganizationCode"], row["SubinventoryCode"]) == (
                        item_number, org, subinventory):
                    row.update(PrimaryQuantity=float(quantity), LastUpdateDate=iso(updated))
                    return row
            return self.add_balance(item_number, quantity, updated, org, subinventory)

    def touch_order(self, header_id: int, updated: dt.datetime, **values: Any) -> None:
        with self.lock:
            self.orders[header_id].update(values, LastUpdateDate=iso(updated))

    def add_shipment(self, order: dict[str, Any], tracking: str, updated: dt.datetime,
                     status: str = "SHIPPED", carrier: str = "DHL") -> dict[str, Any]:
        with self.lock:
            row = {"ShipmentId": self._id(), "Shipment": f"SHP-{len(self.shipments) + 1}",
                   "ShipmentStatusCode": status, "TrackingNumber": tracking,
                   "Carrier": carrier, "OrderNumber": order["OrderNumber"],
                   "SourceOrderNumber": order["OrderNumber"],
                   "LastUpdateDate": iso(updated)}
            self.shipments.append(row)
            return row

    def order_by_reference(self, reference: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.orders.values() if o["SourceTransactionNumber"] == reference]

    # -- hooks --------------------------------------------------------------------------------
    def credentials_ok(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        client = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        return (form.get("grant_type") == "client_credentials"
                and client == (self.client_id, self.client_secret)
                and form.get("scope") == self.scope)

    def error_reply(self, kind: FaultKind, call: Call) -> Reply:
        if kind == "unknown_product":
            return oracle_error(400, "Bad Request",
                                "The item ZZ-UNKNOWN isn't valid in organization M1.",
                                "DOO-2685371", "/lines/0/ProductNumber")
        return oracle_error(400, "Bad Request",
                            "The value of the attribute BuyingPartyNumber isn't valid.",
                            "DOO-2684211", "BuyingPartyNumber")

    def route(self, call: Call) -> Reply:
        if not call.path.startswith(ROOT + "/"):
            return Reply(404, {"title": "Not Found", "detail": call.path})
        resource, _, rest = call.path[len(ROOT) + 1:].partition("/")
        if resource == "salesOrdersForOrderHub":
            if call.method == "POST" and not rest:
                return self._create_order(call.body or {})
            if call.method == "GET" and not rest:
                return collection(list(self.orders.values()), call.query)
            if call.method == "GET":
                return self._get_order(rest)
        if resource == "salesOrderActionRequests" and call.method == "POST":
            return self._action(call.body or {})
        if call.method == "GET" and resource == "inventoryOnhandBalances":
            return collection(self.balances, call.query)
        if call.method == "GET" and resource == "itemsV2":
            return collection(list(self.items.values()), call.query)
        if call.method == "GET" and resource == "shipments":
            return collection(self.shipments, call.query)
        return Reply(404, {"title": "Not Found", "detail": f"{call.method} {call.path}"})

    # -- resources ----------------------------------------------------------------------------
    def _create_order(self, body: dict[str, Any]) -> Reply:
        required = ("SourceTransactionNumber", "SourceTransactionSystem", "SourceTransactionId",
                    "BuyingPartyNumber", "TransactionalCurrencyCode", "BusinessUnitName")
        for name in required:
            if not body.get(name):
                return oracle_error(400, "Bad Request", f"The attribute {name} is required.",
                                    "DOO-2685012", name)
        if self.order_by_reference(body["SourceTransactionNumber"]):
            return oracle_error(400, "Bad Request",
                                f"A sales order with source transaction number "
                                f"{body['SourceTransactionNumber']} already exists.",
                                "DOO-2685222", "SourceTransactionNumber")
        lines = body.get("lines") or []
        if not lines:
            return oracle_error(400, "Bad Request", "The sales order must have lines.",
                                "DOO-2685013", "lines")
        for i, line in enumerate(lines):
            if line.get("ProductNumber") not in self.items:
                org = body.get("RequestedFulfillmentOrganizationCode")
                return oracle_error(400, "Bad Request",
                                    f"The item {line.get('ProductNumber')} isn't valid in "
                                    f"organization {org}.", "DOO-2685371",
                                    f"/lines/{i}/ProductNumber")
            if not line.get("OrderedQuantity") or float(line["OrderedQuantity"]) <= 0:
                return oracle_error(400, "Bad Request", "The ordered quantity must be positive.",
                                    "DOO-2685380", f"/lines/{i}/OrderedQuantity")
        header_id = self._id()
        order = {**{k: v for k, v in body.items() if k != "lines"},
                 "HeaderId": header_id, "OrderNumber": str(len(self.orders) + 500001),
                 "StatusCode": "OPEN" if body.get("SubmittedFlag") else "DOO_DRAFT",
                 "LastUpdateDate": iso(self.now()),
                 "OrderKey": f"{body['SourceTransactionSystem']}:{body['SourceTransactionId']}",
                 "lines": [{**line, "LineId": self._id()} for line in lines]}
        self.orders[header_id] = order
        return Reply(201, order)

    def _get_order(self, key: str) -> Reply:
        for order in self.orders.values():
            if key in (str(order["HeaderId"]), order["OrderKey"]):
                return Reply(200, order)
        return Reply(404, {"title": "Not Found", "detail": f"no sales order {key}"})

    def _action(self, body: dict[str, Any]) -> Reply:
        for name in ("ActionCode", "ActionRequestTrackingId", "HeaderId"):
            if body.get(name) in (None, ""):
                return oracle_error(400, "Bad Request", f"The attribute {name} is required.",
                                    "FOM-2412001", name)
        order = self.orders.get(int(body["HeaderId"]))
        if order is None:
            return oracle_error(400, "Bad Request", f"The order {body['HeaderId']} doesn't exist.",
                                "FOM-2412002", "HeaderId")
        request = {**body, "ActionRequestId": self._id(), "StatusCode": "PRE_PROCESSING"}
        self.action_requests.append(request)
        if body["ActionCode"] == "ORA_FOM_CANCEL_ORDER":   # processed "offline": done at once here
            order["StatusCode"] = "CANCELED"
            order["LastUpdateDate"] = iso(self.now())
        return Reply(201, request)
