"""A local JSON ERP ("Acme ERP") for the generic REST adapter: no vendor's product, just a
plausible in-house API with its own shapes, so the adapter's configuration (URL templates,
dotted-path mappings, body template, auth) is exercised end to end over real sockets.

- ``POST /oauth/token`` client credentials; also a static bearer token and basic auth;
- ``GET /api/v1/orders?reference=`` -> ``{"data": [{"id", "reference", "status", ...}]}``;
- ``POST /api/v1/orders`` -> 201 ``{"data": {"id": ...}}``; errors 422/409
  ``{"error": {"code", "message"}}``;
- ``POST /api/v1/orders/{id}/cancel``;
- ``GET /api/v1/stock/changes?since=&after=&limit=`` keyset on (updated_at, id);
- ``GET /api/v1/stock?cursor=&per_page=`` -> ``{"items": [...], "next_cursor": ...}``;
- ``GET /api/v1/orders/changes?since=&after=&limit=``;
- ``GET /api/v1/items/changes?since=&after=&limit=`` (catalogue: sku, name, price, active);
- ``GET /api/v1/shipments/changes?since=&after=&limit=`` (order id and reference, tracking)."""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from tests.vendor_servers.base import Call, FaultKind, Reply, VendorServer

API = "/api/v1"


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


class GenericErpServer(VendorServer):
    token_path = "/oauth/token"

    def __init__(self, client_id: str = "pssync", client_secret: str = "acme-s3cret",
                 static_token: str = "static-bearer-t0ken",
                 basic: tuple[str, str] = ("shop", "basic-pa55")) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.static_token, self.basic = static_token, basic
        self.skus: set[str] = set()
        self.stock: list[dict[str, Any]] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.shipments: list[dict[str, Any]] = []
        self._id = 0
        self.clock = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)

    def _next(self) -> int:
        self._id += 1
        return self._id

    def now(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return self.clock.isoformat().replace("+00:00", "Z")

    def add_stock(self, sku: str, quantity: int, updated: dt.datetime,
                  warehouse: str = "MAIN") -> dict[str, Any]:
        with self.lock:
            self.skus.add(sku)
            row = {"id": self._next(), "item": {"code": sku, "name": sku.lower()},
                   "qty_available": quantity, "qty_on_hand": quantity + 1,
                   "warehouse": warehouse, "updated_at": updated.isoformat().replace("+00:00", "Z")}
            self.stock.append(row)
            return row

    def set_stock(self, sku: str, quantity: int, updated: dt.datetime,
                  warehouse: str = "MAIN") -> dict[str, Any]:
        """The stock row of ``sku`` in ``warehouse`` now holds ``quantity`` (added if new)."""
        with self.lock:
            for row in self.stock:
                if row["item"]["code"] == sku and row["warehouse"] == warehouse:
                    row.update(qty_available=quantity, qty_on_hand=quantity + 1,
                               updated_at=updated.isoformat().replace("+00:00", "Z"))
                    return row
            return self.add_stock(sku, quantity, updated, warehouse)

    def add_item(self, sku: str, name: str, price: str, updated: dt.datetime,
                 active: bool = True) -> dict[str, Any]:
        with self.lock:
            self.skus.add(sku)
            row = {"id": self._next(), "sku": sku, "name": name, "price": price,
                   "currency": "EUR", "active": active,
                   "updated_at": updated.isoformat().replace("+00:00", "Z")}
            self.items[sku] = row
            return row

    def update_item(self, sku: str, updated: dt.datetime, **values: Any) -> dict[str, Any]:
        with self.lock:
            row = self.items[sku]
            row.update(values, updated_at=updated.isoformat().replace("+00:00", "Z"))
            return row

    def touch_order(self, order_id: int, updated: dt.datetime, **values: Any) -> None:
        with self.lock:
            self.orders[order_id].update(values, updated_at=updated.isoformat().replace("+00:00", "Z"))

    def add_shipment(self, order_id: int, tracking: str, updated: dt.datetime,
                     carrier: str = "DHL", status: str = "shipped") -> dict[str, Any]:
        with self.lock:
            order = self.orders[order_id]
            row = {"id": self._next(), "order_id": order_id, "order_reference": order["reference"],
                   "tracking": tracking, "carrier": carrier, "status": status,
                   "updated_at": updated.isoformat().replace("+00:00", "Z")}
            self.shipments.append(row)
            return row

    def with_reference(self, reference: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.orders.values() if o["reference"] == reference]

    # -- hooks --------------------------------------------------------------------------------
    def credentials_ok(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        client = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        return form.get("grant_type") == "client_credentials" and client == (
            self.client_id, self.client_secret)

    def accepts(self, authorization: str) -> bool:
        if authorization == f"Bearer {self.static_token}":
            return True
        expected = base64.b64encode(":".join(self.basic).encode()).decode()
        return authorization == f"Basic {expected}"

    def error_reply(self, kind: FaultKind, call: Call) -> Reply:
        if kind == "unknown_product":
            return error(422, "UNKNOWN_SKU", "unknown sku ZZ-UNKNOWN")
        return error(422, "VALIDATION", "customer.email is not a valid address")

    def route(self, call: Call) -> Reply:
        path, method, q = call.path, call.method, call.query
        if path == f"{API}/orders" and method == "GET":
            return Reply(200, {"data": self.with_reference(q.get("reference", ""))})
        if path == f"{API}/orders" and method == "POST":
            return self._create(call.body)
        if path.startswith(f"{API}/orders/") and path.endswith("/cancel") and method == "POST":
            order = self.orders.get(int(path.split("/")[-2]))
            if order is None:
                return error(404, "NOT_FOUND", "no such order")
            order.update(status="cancelled", updated_at=self.now())
            return Reply(200, {"data": order})
        if path == f"{API}/stock/changes" and method == "GET":
            return Reply(200, {"items": self._keyset(self.stock, q)})
        if path == f"{API}/orders/changes" and method == "GET":
            return Reply(200, {"items": self._keyset(list(self.orders.values()), q)})
        if path == f"{API}/items/changes" and method == "GET":
            return Reply(200, {"items": self._keyset(list(self.items.values()), q)})
        if path == f"{API}/shipments/changes" and method == "GET":
            return Reply(200, {"items": self._keyset(self.shipments, q)})
        if path == f"{API}/stock" and method == "GET":
            rows = sorted(self.stock, key=lambda r: r["id"])
            start = int(q.get("cursor") or 0)
            size = int(q.get("per_page", 50))
            page = [r for r in rows if r["id"] > start][:size]
            more = bool(page) and page[-1]["id"] < rows[-1]["id"]
            return Reply(200, {"items": page, "next_cursor": str(page[-1]["id"]) if more else None})
        return error(404, "NOT_FOUND", f"{method} {path}")

    def _keyset(self, rows: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        def position(row: dict[str, Any]) -> tuple[dt.datetime, int]:
            return dt.datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00")), row["id"]
        chosen = sorted(rows, key=position)
        if q.get("since"):
            since = dt.datetime.fromisoformat(q["since"].replace("Z", "+00:00"))
            after = int(q.get("after") or 0)
            chosen = [r for r in chosen if position(r) > (since, after)]
        return chosen[:int(q.get("limit", 100))]

    def _create(self, body: Any) -> Reply:
        if not isinstance(body, dict) or not body.get("reference"):
            return error(422, "VALIDATION", "reference is required")
        if self.with_reference(body["reference"]):
            return error(409, "DUPLICATE", f"order {body['reference']} already exists")
        for i, line in enumerate(body.get("lines") or []):
            if line.get("sku") not in self.skus:
                return error(422, "UNKNOWN_SKU", f"unknown sku {line.get('sku')}")
            if not isinstance(line.get("qty"), (int, float)) or line["qty"] <= 0:
                return error(422, "VALIDATION", f"lines[{i}].qty must be a positive number")
        order = {**body, "id": self._next(), "status": "open", "updated_at": self.now()}
        self.orders[order["id"]] = order
        return Reply(201, {"data": {"id": order["id"], "status": "open"}})
