"""Avro schemas (.avsc) of the topics whose shape the project defines (the ERP side; change
events of PrestaShop tables get theirs generated from the live table definitions)."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")
    return json.loads(text)
