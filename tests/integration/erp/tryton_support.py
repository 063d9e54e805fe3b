"""Changing things in the real Tryton of the local stack, the way a user of the ERP would, and
the gateway (an httpx transport) through which tests make the network in front of it fail."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Iterator
from typing import Any

import httpx

from pssync import devstack
from pssync.erp.base import Address, Customer, SalesOrder, SalesOrderLine
from pssync.devstack.erp_actions import forecast as quantity  # noqa: F401  (what tests import)
from pssync.devstack.erp_actions import receive_stock, set_price  # noqa: F401
from pssync.erp.errors import PermanentErpError
from pssync.erp.tryton import TrytonAdapter, decode


def adapter(stack: devstack.StackSettings, *, transport: httpx.BaseTransport | None = None,
            **overrides) -> TrytonAdapter:
    settings = dict(url=f"http://127.0.0.1:{stack.tryton_port}", database=stack.tryton_database,
                    user=stack.tryton_user, password=stack.tryton_password)
    return TrytonAdapter(TrytonAdapter.Settings(**{**settings, **overrides}), transport=transport)


def new_product(erp: TrytonAdapter, price: str = "10.00", variants: int = 1) -> list[str]:
    """A product of the test's own in Tryton (goods, salable), so tests that change stock or
    prices leave the seeded demo catalogue as it was. Returns the variant codes."""
    base = f"test_{uuid.uuid4().hex[:8]}"
    like = erp.search_read("product.template", [("code", "=", "demo_11")],
                           ["default_uom", "sale_uom", "account_category"])[0]
    suffixes = [f"-{i}" for i in range(1, variants + 1)] if variants > 1 else [""]
    erp.call("product.template", "create", [{
        "name": f"Test product {base}", "code": base, "type": "goods", "salable": True,
        "default_uom": like["default_uom"], "sale_uom": like["sale_uom"],
        "account_category": like["account_category"], "list_price": Decimal(price),
        "products": [["create", [{"suffix_code": s} for s in suffixes]]]}])
    return [base + s for s in suffixes]


def product_ids(erp: TrytonAdapter, *codes: str) -> list[int]:
    rows = erp.search_read("product.product", [("code", "in", list(codes))], ["id", "code"])
    by_code = {r["code"]: r["id"] for r in rows}
    return [by_code[c] for c in codes]


def shop_order(*lines: tuple[str, str, str], reference: str | None = None) -> SalesOrder:
    address = Address("John DOE", "16, Main street", "33133", "Miami", "US", street2="2nd floor")
    return SalesOrder(
        shop_reference=reference or f"PS-{uuid.uuid4().hex[:9].upper()}",
        customer=Customer("PS-CUST-1", "John DOE", "pub@prestashop.com"),
        currency="EUR",
        lines=tuple(SalesOrderLine(sku, Decimal(q), Decimal(p)) for sku, q, p in lines),
        invoice_address=address, shipment_address=address,
        ordered_at=dt.datetime.now(dt.timezone.utc))


def new_products(erp: TrytonAdapter, n: int = 1, price: str = "10.00",
                 salable: bool = True) -> list[str]:
    """``n`` products of the test's own (goods, one variant each) made in ONE create call, so
    Tryton gives all of them the same creation timestamp. Returns their codes; each product is
    named ``product_name(code)``."""
    like = erp.search_read("product.template", [("code", "=", "demo_11")],
                           ["default_uom", "sale_uom", "account_category"])[0]
    codes = [f"test_{uuid.uuid4().hex[:8]}" for _ in range(n)]
    erp.call("product.template", "create", [{
        "name": product_name(code), "code": code, "type": "goods", "salable": salable,
        "default_uom": like["default_uom"], "sale_uom": like["sale_uom"],
        "account_category": like["account_category"], "list_price": Decimal(price),
        "products": [["create", [{"suffix_code": ""}]]]} for code in codes])
    return codes


def product_name(code: str) -> str:
    return f"Test product {code}"


def retire_products(erp: TrytonAdapter, codes: list[str]) -> None:
    """Deactivate the templates of products a test made (Tryton keeps them, inactive), so the
    shared catalogue and its stock snapshot do not grow with every run. Tryton warns that some
    still have stock; the warning is acknowledged as a user does in the client."""
    if not codes:
        return
    ids = [r["id"] for r in erp.search_read("product.template", [("code", "in", codes)], ["id"])]
    user = erp.search_read("res.user", [("login", "=", erp.settings.user)], ["id"])[0]["id"]
    for _ in range(len(ids) + 1):             # one warning per product that has stock
        try:
            erp.call("product.template", "write", ids, {"active": False})
            return
        except PermanentErpError as exc:
            if exc.code != "UserWarning":
                raise
            name = exc.erp_message.split("UserWarning: ", 1)[1].split()[0]
            erp.call("res.user.warning", "create", [{"user": user, "name": name, "always": False}])
    raise RuntimeError(f"Tryton kept warning about deactivating {', '.join(codes)}")


def receive_together(erp: TrytonAdapter, quantities: dict[str, float]) -> None:
    """As erp_actions.receive_stock for several products at once: one create of all the moves
    and one ``do``, so the moves share their timestamps."""
    products = {p["code"]: p for p in erp.search_read(
        "product.product", [("code", "in", list(quantities))], ["id", "code", "default_uom"])}
    lost = erp.search_read("stock.location", [("type", "=", "lost_found")], ["id"])[0]["id"]
    storage = erp.search_read("stock.location", [("id", "=", erp.warehouse)],
                              ["storage_location"])[0]["storage_location"]
    moves = erp.call("stock.move", "create", [
        {"product": products[code]["id"], "from_location": lost if qty >= 0 else storage,
         "to_location": storage if qty >= 0 else lost, "quantity": abs(qty),
         "unit": products[code]["default_uom"], "company": 1}
        for code, qty in quantities.items()])
    erp.call("stock.move", "do", moves)


def ship_together(erp: TrytonAdapter, tracking_by_reference: dict[str, str]) -> list[int]:
    """As erp_actions.ship for several shop orders at once: one write of all tracking numbers,
    then each shipping step for all shipments in one call, so they share their timestamps.
    Returns the shipment ids."""
    sales = erp.search_read("sale.sale", [("reference", "in", list(tracking_by_reference))],
                            ["reference", "shipments"])
    shipments = {sale["reference"]: sale["shipments"][0] for sale in sales if sale["shipments"]}
    missing = sorted(set(tracking_by_reference) - set(shipments))
    if missing:
        raise LookupError(f"no Tryton shipment for shop order(s) {', '.join(missing)}")
    writes: list = []
    for reference, shipment in shipments.items():
        writes += [[shipment], {"reference": tracking_by_reference[reference]}]
    erp.call("stock.shipment.out", "write", *writes)
    ids = sorted(shipments.values())
    for step in ("wait", "assign_force", "pick", "pack", "do"):
        try:
            erp.call("stock.shipment.out", step, ids)
        except PermanentErpError:   # a step the current state does not allow is skipped
            if step == "do":
                raise
    return ids


@dataclass
class GatewayFault:
    kind: str                      # "429", "503", "timeout", "lost_reply"
    remaining: int
    retry_after: str | None = None
    rpc: str | None = None         # only this JSON-RPC method (e.g. "model.sale.sale.create")
    taken: int = 0                 # how many requests it answered


class TrytonGateway(httpx.BaseTransport):
    """The network between an adapter and the real Tryton, as an httpx transport: every JSON-RPC
    request goes on to trytond over a real socket and its real answer comes back, and the next
    requests can be made to fail the way a reverse proxy or the network in front of trytond
    fails them: 429/503 with Retry-After, a read timeout, or a lost reply (trytond committed, the
    caller gets a 504). It never makes up an answer of Tryton's own.

    It also records the JSON-RPC methods called, what Tryton answered (``served``), and the
    session credentials the adapter sent (``authorizations``: secrets that must never be
    shown). One gateway may serve several adapters: closing an adapter does not close it."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()
        self.faults: list[GatewayFault] = []
        self.calls: list[str] = []
        self.served: list[tuple[str, Any]] = []
        self.authorizations: set[str] = set()

    def fail_next(self, n: int, kind: str, *, retry_after: str | None = None,
                  rpc: str | None = None) -> GatewayFault:
        fault = GatewayFault(kind, n, retry_after, rpc)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _take(self, rpc: str) -> GatewayFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.rpc in (None, rpc):
                    fault.remaining -= 1
                    fault.taken += 1
                    return fault
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        rpc = str(json.loads(request.content or b"{}").get("method", ""))
        with self.lock:
            self.calls.append(rpc)
            authorization = request.headers.get("Authorization", "")
            if authorization.startswith("Session "):
                self.authorizations.add(authorization[len("Session "):])
        fault = self._take(rpc)
        if fault is not None and fault.kind == "timeout":
            raise httpx.ReadTimeout("gateway: no answer from upstream in time", request=request)
        if fault is not None and fault.kind in ("429", "503"):
            phrase = "Too Many Requests" if fault.kind == "429" else "Service Unavailable"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return httpx.Response(int(fault.kind), headers=headers, text=phrase, request=request)
        response = self.inner.handle_request(request)
        response.read()
        if fault is not None and fault.kind == "lost_reply":
            response.close()
            return httpx.Response(504, text="Gateway Time-out", request=request)
        try:
            result = decode(response.json().get("result"))
        except ValueError:
            result = None
        with self.lock:
            self.served.append((rpc, result))
        return response

    def row_stamps(self, since: int = 0) -> list[dt.datetime]:
        """The change timestamp (write_date, else create_date) of every record Tryton sent in
        answers from ``served[since:]`` that carry one."""
        with self.lock:
            answers = [result for _, result in self.served[since:]]
        return [row.get("write_date") or row["create_date"]
                for result in answers if isinstance(result, list)
                for row in result if isinstance(row, dict) and row.get("create_date")]

    def close(self) -> None:            # adapters close their clients; the gateway lives on
        pass

    def shut(self) -> None:
        self.inner.close()


@contextlib.contextmanager
def failed_logins_forgotten(stack: devstack.StackSettings) -> Iterator[None]:
    """For a test that logs in with a wrong password as the stack's user: trytond counts failed
    logins by login name and, past a few, refuses that login for everyone for a while; a
    successful login afterwards clears the count (the stack is shared)."""
    try:
        yield
    finally:
        right = adapter(stack)
        try:
            right.search_read("res.user", [("login", "=", stack.tryton_user)], ["id"], limit=1)   # logs in
        finally:
            right.close()
