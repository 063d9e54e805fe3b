"""Changing things in the real Tryton of the local stack, the way a user of the ERP would."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pssync import devstack
from pssync.erp.base import Address, Customer, SalesOrder, SalesOrderLine
from pssync.devstack.erp_actions import forecast as quantity  # noqa: F401  (what tests import)
from pssync.devstack.erp_actions import receive_stock, set_price  # noqa: F401
from pssync.erp.tryton import TrytonAdapter


def adapter(stack: devstack.StackSettings, **overrides) -> TrytonAdapter:
    return TrytonAdapter(TrytonAdapter.Settings(
        url=f"http://127.0.0.1:{stack.tryton_port}", database=stack.tryton_database,
        user=stack.tryton_user, password=stack.tryton_password, **overrides))


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
