"""Seed a freshly initialised Tryton database with the PrestaShop demo company, catalogue, stock
and customers. Runs in its own process with proteus in direct trytond mode (no server running):

    python -m pssync.devstack.tryton_seed --config trytond.conf --database tryton --user admin \\
        --input seed-input.json --output catalogue.json

`--input` is the JSON written by devstack.tryton_catalogue; `--output` receives the catalogue
mapping (one entry per variant). devstack.tryton runs this on a copy of the just-initialised
database, so an interrupted seed is simply redone from scratch.

Mapping choices:
- every PrestaShop product becomes a `goods` template, virtual ones included: PrestaShop keeps
  stock for virtual products (ps_stock_available rows, decremented by orders), so the ERP tracks
  it too and stock sync treats all products alike. The pack (demo_21) is a goods product with
  its own stock; its components are not modelled.
- template list price = ps_product.price; a combination with a price impact gets its own variant
  list price (price + impact; trytond 8.x has per-variant list prices), others inherit.
- on-hand quantity: one stock inventory in the warehouse's storage location, confirmed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from proteus import Model, Wizard
from proteus import config as proteus_config

from .tryton_catalogue import Customer, DemoData, Product, erp_code, load_demo_data, suffix_code

COMPANY_NAME = "PrestaShop Demo SARL"
COMPANY_CURRENCY = ("EUR", "Euro", "€")
PAYMENT_TERM = "Immediate"
ACCOUNT_CATEGORY = "PrestaShop products"
CHART_TEMPLATE = "account.account_template_root_en"   # the minimal chart shipped with `account`
PRICE_PLACES = Decimal("0.0001")                         # trytond price_digits (16, 4)


def _one(model: str, domain: list[Any]) -> Any | None:
    found = Model.get(model).find(domain, limit=1)
    return found[0] if found else None


def ensure_currency(code: str, name: str, symbol: str) -> Any:
    currency = _one("currency.currency", [("code", "=", code)])
    if currency is None:
        currency = Model.get("currency.currency")(name=name, code=code, symbol=symbol, rounding=Decimal("0.01"))
        currency.save()
        Model.get("currency.currency.rate")(date=dt.date.min, rate=Decimal(1), currency=currency).save()
    return currency


def ensure_country(code: str, name: str) -> Any:
    country = _one("country.country", [("code", "=", code)])
    if country is None:
        country = Model.get("country.country")(name=name, code=code)
        country.save()
    return country


def ensure_subdivision(country: Any, code: str, name: str) -> Any:
    subdivision = _one("country.subdivision", [("code", "=", code)])
    if subdivision is None:
        subdivision = Model.get("country.subdivision")(name=name, code=code, type="state", country=country)
        subdivision.save()
    return subdivision


def create_company(currency: Any, country: Any) -> Any:
    party = Model.get("party.party")(name=COMPANY_NAME)
    address, = party.addresses
    address.country = country
    party.save()
    wizard = Wizard("company.company.config")
    wizard.execute("company")
    wizard.form.party = party
    wizard.form.currency = currency
    wizard.execute("add")
    # The wizard sets the user's company: reload the context so later records belong to it.
    config = proteus_config.get_config()
    config._context = Model.get("res.user").get_preferences(True, {})
    company, = Model.get("company.company").find([("party", "=", party.id)])
    return company


def _account(company: Any, kind: str) -> Any:
    account = _one("account.account", [(f"type.{kind}", "=", True), ("company", "=", company.id),
                                       ("closed", "!=", True)])
    if account is None:
        raise RuntimeError(f"the chart of accounts has no {kind} account")
    return account


def create_chart(company: Any) -> dict[str, Any]:
    template_id = Model.get("ir.model.data").get_id(CHART_TEMPLATE, proteus_config.get_config().context)
    wizard = Wizard("account.create_chart")
    wizard.execute("account")
    wizard.form.account_template = Model.get("account.account.template")(template_id)
    wizard.form.company = company
    wizard.execute("create_account")
    accounts = {kind: _account(company, kind) for kind in ("receivable", "payable", "revenue", "expense")}
    wizard.form.account_receivable = accounts["receivable"]
    wizard.form.account_payable = accounts["payable"]
    wizard.form.category_account_revenue = accounts["revenue"]
    wizard.form.category_account_expense = accounts["expense"]
    wizard.execute("create_properties")
    return accounts


def create_fiscal_year(company: Any, year: int) -> Any:
    strict = Model.get("ir.sequence.strict")
    sequence_type = Model.get("ir.sequence.type")
    move_type, = sequence_type.find([("name", "=", "Account Move")], limit=1)
    invoice_type, = sequence_type.find([("name", "=", "Invoice")], limit=1)
    move_sequence = strict(name=f"{year}", sequence_type=move_type, company=company)
    move_sequence.save()
    invoice_sequence = strict(name=f"Invoice {year}", sequence_type=invoice_type, company=company)
    invoice_sequence.save()
    fiscal_year = Model.get("account.fiscalyear")(
        name=f"{year}", start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31),
        company=company, move_sequence=move_sequence)
    sequences, = fiscal_year.invoice_sequences
    for name in ("out_invoice_sequence", "in_invoice_sequence",
                 "out_credit_note_sequence", "in_credit_note_sequence"):
        setattr(sequences, name, invoice_sequence)
    fiscal_year.save()
    fiscal_year.click("create_period")
    return fiscal_year


def create_payment_term() -> Any:
    term = Model.get("account.invoice.payment_term")(name=PAYMENT_TERM)
    term.lines.new(type="remainder")
    term.save()
    configuration = Model.get("account.configuration")(1)
    configuration.default_customer_payment_term = term
    configuration.save()
    return term


def create_account_category(accounts: dict[str, Any]) -> Any:
    category = Model.get("product.category")(name=ACCOUNT_CATEGORY, accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()
    return category


def create_customer(customer: Customer, payment_term: Any) -> Any:
    party = Model.get("party.party")(name=customer.party_name, code=customer.party_code)
    party.customer_payment_term = payment_term
    if customer.email:
        party.contact_mechanisms.new(type="email", value=customer.email)
    party.addresses.pop()   # the empty default address
    for source in customer.addresses:
        address = party.addresses.new(street=source.street, postal_code=source.postal_code, city=source.city)
        if source.country_code:
            address.country = ensure_country(source.country_code, source.country_name or source.country_code)
            if source.subdivision_code:
                address.subdivision = ensure_subdivision(
                    address.country, source.subdivision_code, source.subdivision_name or source.subdivision_code)
    party.save()
    return party


def _variant_price(product: Product, impact: Decimal) -> Decimal:
    return (product.price + impact).quantize(PRICE_PLACES)


def create_template(product: Product, unit: Any, category: Any) -> Any:
    template = Model.get("product.template")(
        name=product.name, code=product.template_code, type="goods", salable=True,
        default_uom=unit, list_price=product.price.quantize(PRICE_PLACES), account_category=category)
    template.sale_uom = unit
    first, = template.products
    variants = product.combinations or [None]
    for index, combination in enumerate(variants):
        variant = first if index == 0 else template.products.new()
        variant.suffix_code = suffix_code(combination.id_product_attribute) if combination else None
        if combination and combination.price_impact:
            variant.list_price = _variant_price(product, combination.price_impact)
    template.save()
    return template


def storage_location() -> tuple[Any, Any]:
    warehouse = _one("stock.location", [("type", "=", "warehouse"), ("code", "=", "WH")]) \
        or _one("stock.location", [("type", "=", "warehouse")])
    if warehouse is None or warehouse.storage_location is None:
        raise RuntimeError("the stock module created no warehouse with a storage location")
    return warehouse, warehouse.storage_location


def fill_stock(storage: Any, quantities: dict[int, int]) -> None:
    inventory = Model.get("stock.inventory")(location=storage)
    for product_id, quantity in sorted(quantities.items()):
        if quantity > 0:
            inventory.lines.new(product=Model.get("product.product")(product_id), quantity=float(quantity))
    inventory.save()
    inventory.click("confirm")


def catalogue_entries(product: Product, template: Any) -> list[dict[str, Any]]:
    by_code = {variant.code: variant for variant in template.products}
    entries = []
    for combination in product.combinations or [None]:
        id_attribute = combination.id_product_attribute if combination else 0
        variant = by_code[erp_code(product, id_attribute)]
        impact = combination.price_impact if combination else Decimal(0)
        entries.append({
            "id_product": product.id_product,
            "id_product_attribute": id_attribute,
            "reference": product.reference,
            "erp_code": variant.code,
            "erp_product_id": variant.id,
            "erp_template_id": template.id,
            "quantity": combination.quantity if combination else product.quantity,
            "list_price": str(_variant_price(product, impact)),
            "name": product.name,
            "product_type": product.product_type,
        })
    return entries


def seed(data: DemoData, year: int) -> dict[str, Any]:
    currency = ensure_currency(*COMPANY_CURRENCY)
    company = create_company(currency, ensure_country("FR", "France"))
    accounts = create_chart(company)
    create_fiscal_year(company, year)
    payment_term = create_payment_term()
    category = create_account_category(accounts)
    customers = [create_customer(customer, payment_term) for customer in data.customers]
    unit, = Model.get("product.uom").find([("name", "=", "Unit")], limit=1)
    warehouse, storage = storage_location()
    catalogue: list[dict[str, Any]] = []
    for product in data.products:
        catalogue += catalogue_entries(product, create_template(product, unit, category))
    fill_stock(storage, {entry["erp_product_id"]: entry["quantity"] for entry in catalogue})
    return {
        "company_id": company.id, "warehouse_id": warehouse.id, "storage_id": storage.id,
        "customer_ids": [party.id for party in customers], "catalogue": catalogue,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--database", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    args = parser.parse_args(argv)
    proteus_config.set_trytond(args.database, user=args.user, config_file=str(args.config))
    result = seed(load_demo_data(args.input), args.year)
    staging = args.output.with_suffix(".tmp")
    staging.write_text(json.dumps(result["catalogue"], indent=1) + "\n")
    os.replace(staging, args.output)
    summary = {key: value for key, value in result.items() if key != "catalogue"}
    print(f"seeded {len(result['catalogue'])} variants: {json.dumps(summary)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
