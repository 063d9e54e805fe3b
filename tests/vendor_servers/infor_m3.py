"""A local server shaped like Infor M3's MI REST API behind the ION API gateway.

Written from Infor's published material: the ``.ionapi`` credentials (token endpoint ``pu + ot``,
resource-owner password grant with the service account's ``saak``/``sask`` and the app's
``ci``/``cs``), the gateway path ``/{tenant}/M3/m3api-rest/v2/execute/{program}/{transaction}``
with input fields as query parameters and ``maxrecs`` (default 100, 0 = unlimited), and the
response envelope ``{"results": [{"transaction", "records", "errorMessage", "errorCode",
"errorField"}], "nrOfSuccessfullTransactions", "nrOfFailedTransactions", ...}`` where an MI error
comes back inside an HTTP 200. Transaction names and their fields follow Infor's M3 API pages
where we found them (OIS100MI AddBatchHead/AddBatchLine/AddBatchAddress); the others are our
assumption, listed in erp/VENDORS.md. It is NOT Infor M3, only our reading of those documents,
with in-memory state."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.vendor_servers.base import Call, FaultKind, Reply, VendorServer


def ok(transaction: str, records: list[dict[str, Any]]) -> Reply:
    return Reply(200, {"results": [{"transaction": transaction, "records": records}],
                       "wasTerminated": False, "nrOfSuccessfullTransactions": 1,
                       "nrOfFailedTransactions": 0, "nrOfNotProcessedTransactions": 0})


def nok(transaction: str, message: str, code: str, field: str) -> Reply:
    # M3 pads messages to fixed width; the adapter must cope with the trailing blanks
    return Reply(200, {"results": [{"transaction": transaction, "errorMessage": message.ljust(60),
                                    "errorType": "ServerReturnedNOK", "errorCode": code,
                                    "errorField": field, "records": []}],
                       "wasTerminated": False, "nrOfSuccessfullTransactions": 0,
                       "nrOfFailedTransactions": 1, "nrOfNotProcessedTransactions": 0})


def stamp(ts: dt.datetime) -> dict[str, str]:
    return {"LMDT": ts.strftime("%Y%m%d"), "LMTS": str(int(ts.timestamp() * 1000))}


class InforM3Server(VendorServer):
    timeout_delay = 2.0

    def __init__(self, tenant: str = "ACME_TST", ci: str = "ACME_TST~app", cs: str = "ion-s3cret",
                 saak: str = "ACME_TST#svc-access-key", sask: str = "svc-secret-key") -> None:
        super().__init__()
        self.tenant, self.ci, self.cs, self.saak, self.sask = tenant, ci, cs, saak, sask
        self.token_path = f"/{tenant}/as/token.oauth2"
        self.prefix = f"/{tenant}/M3/m3api-rest/v2/execute/"
        self.customers = {"SHOP01"}
        self.items: dict[str, dict[str, Any]] = {}
        self.balances: list[dict[str, Any]] = []
        self.prices: list[dict[str, Any]] = []
        self.batches: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._seq = 1000
        self.clock = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)

    def ionapi(self) -> dict[str, str]:
        """The credentials file an ION API admin would download for this tenant."""
        return {"ti": self.tenant, "cn": "pssync", "dt": "12", "ci": self.ci, "cs": self.cs,
                "iu": self.url, "pu": f"{self.url}/{self.tenant}/as/", "oa": "authorization.oauth2",
                "ot": "token.oauth2", "or": "revoke_token.oauth2", "ev": "U1234567890",
                "v": "1.0", "saak": self.saak, "sask": self.sask}

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    def now(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=1)
        return self.clock

    # -- seed data ----------------------------------------------------------------------------
    def add_item(self, itno: str, name: str, updated: dt.datetime, active: bool = True,
                 ) -> dict[str, Any]:
        with self.lock:
            row = {"ITNO": itno, "ITDS": name, "STAT": "20" if active else "90", "UNMS": "EA",
                   **stamp(updated)}
            self.items[itno] = row
            return row

    def add_balance(self, itno: str, on_hand: str, updated: dt.datetime, location: str = "A-01",
                    allocated: str = "0", warehouse: str = "100") -> dict[str, Any]:
        with self.lock:
            row = {"WHLO": warehouse, "ITNO": itno, "WHSL": location, "BANO": "",
                   "STQT": on_hand, "ALQT": allocated, **stamp(updated)}
            self.balances.append(row)
            return row

    def add_price(self, itno: str, price: str, updated: dt.datetime, price_list: str = "WEB",
                  currency: str = "EUR") -> None:
        with self.lock:
            self.prices.append({"PRRF": price_list, "CUCD": currency, "ITNO": itno,
                                "SAPR": price, **stamp(updated)})

    def add_delivery(self, orno: str, tracking: str, updated: dt.datetime,
                     progress: str = "60") -> dict[str, Any]:
        with self.lock:
            row = {"DLIX": self._next(), "RIDN": orno, "WHLO": "100", "PGRS": progress,
                   "CONN": "", "ETRN": tracking, "FWNO": "DHL", **stamp(updated)}
            self.deliveries.append(row)
            return row

    def set_balance(self, itno: str, on_hand: str, updated: dt.datetime, location: str = "A-01",
                    warehouse: str = "100") -> dict[str, Any]:
        """The balance identity (warehouse, item, location) now holds ``on_hand`` (added if new)."""
        with self.lock:
            for row in self.balances:
                if (row["WHLO"], row["ITNO"], row["WHSL"]) == (warehouse, itno, location):
                    row.update(STQT=on_hand, **stamp(updated))
                    return row
            return self.add_balance(itno, on_hand, updated, location, warehouse=warehouse)

    def set_price(self, itno: str, price: str, updated: dt.datetime, price_list: str = "WEB",
                  currency: str = "EUR") -> None:
        """The base price of the item on that price list is now ``price`` (added if new)."""
        with self.lock:
            for row in self.prices:
                if (row["PRRF"], row["CUCD"], row["ITNO"]) == (price_list, currency, itno):
                    row.update(SAPR=price, **stamp(updated))
                    return
            self.add_price(itno, price, updated, price_list, currency)

    def touch_order(self, orno: str, updated: dt.datetime, **values: Any) -> None:
        with self.lock:
            self.orders[orno].update(values, **stamp(updated))

    def orders_with_reference(self, cuor: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.orders.values() if o["CUOR"] == cuor]

    # -- hooks --------------------------------------------------------------------------------
    def credentials_ok(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        client = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        return (form.get("grant_type") == "password" and client == (self.ci, self.cs)
                and (form.get("username"), form.get("password")) == (self.saak, self.sask))

    def error_reply(self, kind: FaultKind, call: Call) -> Reply:
        transaction = call.path.rsplit("/", 1)[-1]
        if kind == "unknown_product":
            return nok(transaction, "Item number ZZ-UNKNOWN does not exist", "WITNO03", "ITNO")
        return nok(transaction, "Customer number SHOP99 does not exist", "WCUNO03", "CUNO")

    def route(self, call: Call) -> Reply:
        if call.method != "GET" or not call.path.startswith(self.prefix):
            return Reply(404, {"error": "not found", "message": f"{call.method} {call.path}"})
        program, _, transaction = call.path[len(self.prefix):].partition("/")
        handler = getattr(self, f"_{program}_{transaction}", None)
        if handler is None:
            return Reply(404, {"error": "not found",
                               "message": f"transaction {program}/{transaction} does not exist"})
        q = {k: v for k, v in call.query.items()}
        reply: Reply | list[dict[str, Any]] = handler(q)
        if isinstance(reply, Reply):
            return reply
        maxrecs = int(q.get("maxrecs", 100))
        return ok(transaction, reply if maxrecs == 0 else reply[:maxrecs])

    # -- OIS100MI -----------------------------------------------------------------------------
    def _OIS100MI_AddBatchHead(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        for name in ("CUNO", "ORTP", "FACI"):
            if not q.get(name):
                return nok("AddBatchHead", f"{name} must be entered", "WE00001", name)
        if q["CUNO"] not in self.customers:
            return nok("AddBatchHead", f"Customer number {q['CUNO']} does not exist",
                       "WCUNO03", "CUNO")
        orno = self._next()
        self.batches[orno] = {"head": q, "lines": [], "addresses": []}
        return [{"ORNO": orno}]

    def _OIS100MI_AddBatchLine(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        batch = self.batches.get(q.get("ORNO", ""))
        if batch is None:
            return nok("AddBatchLine", f"Temporary order number {q.get('ORNO')} does not exist",
                       "WORNO03", "ORNO")
        if q.get("ITNO") not in self.items:
            return nok("AddBatchLine", f"Item number {q.get('ITNO')} does not exist",
                       "WITNO03", "ITNO")
        if float(q.get("ORQT") or 0) <= 0:
            return nok("AddBatchLine", "Ordered quantity must be greater than zero",
                       "WORQT01", "ORQT")
        batch["lines"].append(q)
        return [{"PONR": str(len(batch["lines"]) * 10), "POSX": "0"}]

    def _OIS100MI_AddBatchAddress(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        batch = self.batches.get(q.get("ORNO", ""))
        if batch is None:
            return nok("AddBatchAddress", "Order number does not exist", "WORNO03", "ORNO")
        batch["addresses"].append(q)
        return []

    def _OIS100MI_Confirm(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        batch = self.batches.pop(q.get("ORNO", ""), None)
        if batch is None:
            return nok("Confirm", f"Temporary order number {q.get('ORNO')} does not exist",
                       "WORNO03", "ORNO")
        if not batch["lines"]:
            return nok("Confirm", "Order has no lines", "WE00002", "ORNO")
        head = batch["head"]
        orno = f"0{self._next()}00"
        self.orders[orno] = {"ORNO": orno, "CUNO": head["CUNO"], "CUOR": head.get("CUOR", ""),
                             "ORTP": head["ORTP"], "FACI": head["FACI"],
                             "WHLO": head.get("WHLO", ""), "CUCD": head.get("CUCD", ""),
                             "ORDT": head.get("ORDT", ""), "ORSL": "22", "ORST": "22",
                             "lines": batch["lines"], "addresses": batch["addresses"],
                             **stamp(self.now())}
        return [{"ORNO": orno, "STAT": "90"}]

    def _head(self, order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k not in ("lines", "addresses")}

    def _OIS100MI_SearchHead(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        terms = re.findall(r'(\w+):"?([^"\s]*)"?', q.get("SQRY", ""))
        if not terms:
            return nok("SearchHead", "Search query must be entered", "WSQRY01", "SQRY")
        rows = [self._head(o) for o in self.orders.values()
                if all(str(o.get(f, "")) == v for f, v in terms)]
        return sorted(rows, key=lambda r: r["ORNO"])

    def _OIS100MI_GetHead(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        order = self.orders.get(q.get("ORNO", ""))
        if order is None:
            return nok("GetHead", f"Order number {q.get('ORNO')} does not exist", "WORNO03",
                       "ORNO")
        return [self._head(order)]

    def _OIS100MI_DltHead(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        order = self.orders.get(q.get("ORNO", ""))
        if order is None:
            return nok("DltHead", f"Order number {q.get('ORNO')} does not exist", "WORNO03",
                       "ORNO")
        order.update(ORSL="90", ORST="90", **stamp(self.now()))
        return []

    # -- stock, items, prices, deliveries ----------------------------------------------------
    def _MMS060MI_LstBalID(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        if not q.get("WHLO"):
            return nok("LstBalID", "Warehouse must be entered", "WE00001", "WHLO")
        return sorted((b for b in self.balances if b["WHLO"] == q["WHLO"]),
                      key=lambda b: (b["ITNO"], b["WHSL"]))

    def _MMS200MI_LstByNumber(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        return sorted(self.items.values(), key=lambda r: r["ITNO"])

    def _OIS017MI_LstBasePrice(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        if not q.get("PRRF"):
            return nok("LstBasePrice", "Price list must be entered", "WE00001", "PRRF")
        return [p for p in self.prices if p["PRRF"] == q["PRRF"]
                and (not q.get("CUCD") or p["CUCD"] == q["CUCD"])]

    def _MWS410MI_LstDeliveries(self, q: dict[str, str]) -> Reply | list[dict[str, Any]]:
        return [d for d in self.deliveries if not q.get("WHLO") or d["WHLO"] == q["WHLO"]]
