"""deploy/config.example.yaml names every setting the code reads (commented out where it is a
block to fill in), and what it gives is valid."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from pssync.settings import Settings

EXAMPLE = Path(__file__).parents[2] / "deploy" / "config.example.yaml"


def leaves(model: type[BaseModel], given: dict, path: str = ""):
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from leaves(field.annotation, given.get(name) or {}, f"{path}{name}.")
        else:
            yield f"{path}{name}", name in given


def test_every_setting_is_in_the_example():
    text = EXAMPLE.read_text()
    commented = set(re.findall(r"^\s*#\s*([a-z_]+):", text, re.M))
    missing = [key for key, present in leaves(Settings, yaml.safe_load(text))
               if not present and key.rsplit(".", 1)[-1] not in commented]
    assert missing == []


def test_the_example_is_valid():
    Settings(**yaml.safe_load(EXAMPLE.read_text()))
