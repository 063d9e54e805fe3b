"""The contracts between pssync's stages, each beside its Avro schema (``.avsc`` in this folder):
the ERP change events (``erp_*``), the sales-order command (:mod:`.sales_order`), the shop
commands and ERP acknowledgements (:mod:`.commands`), ownership violations, drift alerts and the
processors' dead letters; their wire format (:mod:`.codec`), the record headers with a meaning
(:mod:`.headers`) and the dead-letter format (:mod:`.dead_letters`). Change events of PrestaShop
tables get their schemas from the live table definitions (:mod:`pssync.cdc.avro_schema`).

No stage is imported from here: every stage imports its contracts from here."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")
    return json.loads(text)
