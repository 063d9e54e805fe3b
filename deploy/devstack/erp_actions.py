"""What a user of the ERP does on the local stack's Tryton: receive goods, change a price, ship an
order with a tracking number. Used by the demo scenario and the end-to-end tests."""
from __future__ import annotations

from decimal import Decimal

from pssync.devstack.settings import StackSettings
from pssync.erp.tryton import TrytonAdapter


def tryton(stack: StackSettings) -> TrytonAdapter:
    return TrytonAdapter(TrytonAdapter.Settings(
        url=f"http://127.0.0.1:{stack.tryton_port}", database=stack.tryton_database,
        user=stack.tryton_user, password=stack.tryton_password))


def receive_stock(erp: TrytonAdapter, code: str, quantity: float) -> None:
    """A done move from lost-and-found into the warehouse's storage (an inventory gain; negative:
    a loss)."""
    product = erp.search_read("product.product", [("code", "=", code)], ["id", "default_uom"])[0]
    lost = erp.search_read("stock.location", [("type", "=", "lost_found")], ["id"])[0]["id"]
    storage = erp.search_read("stock.location", [("id", "=", erp.warehouse)],
                              ["storage_location"])[0]["storage_location"]
    source, target = (lost, storage) if quantity >= 0 else (storage, lost)
    moves = erp.call("stock.move", "create", [{"product": product["id"], "from_location": source,
                                              "to_location": target, "quantity": abs(quantity),
                                              "unit": product["default_uom"], "company": 1}])
    erp.call("stock.move", "do", moves)


def set_price(erp: TrytonAdapter, price: Decimal, *codes: str) -> None:
    """One write for all codes: Tryton gives them the same write timestamp."""
    rows = erp.search_read("product.product", [("code", "in", list(codes))], ["id"])
    erp.call("product.product", "write", [r["id"] for r in rows], {"list_price": price})


def forecast(erp: TrytonAdapter, code: str) -> Decimal:
    row = erp.search_read("product.product", [("code", "=", code)], ["forecast_quantity"],
                          context={"locations": [erp.warehouse]})[0]
    return Decimal(str(row["forecast_quantity"]))


def ship(erp: TrytonAdapter, shop_reference: str, tracking_number: str) -> int:
    """Pick, pack and ship the customer shipment of the sale created from ``shop_reference``,
    with the carrier's tracking number (Tryton's shipment reference). Returns the shipment id."""
    sale = erp.search_read("sale.sale", [("reference", "=", shop_reference)], ["id", "shipments"])
    if not sale or not sale[0]["shipments"]:
        raise LookupError(f"no Tryton shipment for shop order {shop_reference}")
    shipment = sale[0]["shipments"][0]
    erp.call("stock.shipment.out", "write", [shipment], {"reference": tracking_number})
    for step in ("wait", "assign_force", "pick", "pack", "do"):
        state = erp.search_read("stock.shipment.out", [("id", "=", shipment)], ["state"])[0]["state"]
        if state == "done":
            break
        try:
            erp.call("stock.shipment.out", step, [shipment])
        except Exception as exc:  # a step the current state does not allow is skipped
            if step == "do":
                raise RuntimeError(f"Tryton refused to ship {shop_reference}: {exc}") from exc
    return shipment
