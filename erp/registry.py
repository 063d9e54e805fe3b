"""ERP adapters by name. Adding an ERP: one module with a settings model and an adapter class,
and one line in ADAPTERS."""
from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from pssync.erp.base import ErpAdapter
from pssync.settings import ConfigError

# name -> "module:AdapterClass"; each adapter class has a ``Settings`` pydantic model and is
# constructed as AdapterClass(settings)
ADAPTERS: dict[str, str] = {
    "tryton": "pssync.erp.tryton:TrytonAdapter",
    "oracle_fusion": "pssync.erp.oracle_fusion:OracleFusionAdapter",
    "infor": "pssync.erp.infor:InforAdapter",
    "rest": "pssync.erp.rest:RestAdapter",
}


def adapter_class(kind: str) -> type:
    if kind not in ADAPTERS:
        raise ConfigError(f"erp.kind: unknown ERP {kind!r}; known: {', '.join(sorted(ADAPTERS))}")
    module, cls = ADAPTERS[kind].split(":")
    return getattr(importlib.import_module(module), cls)


def adapter_settings(kind: str, options: dict[str, Any]) -> BaseModel:
    cls = adapter_class(kind)
    try:
        return cls.Settings(**options)
    except ValidationError as exc:
        problems = "; ".join(f"erp.{kind}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"invalid ERP configuration: {problems}") from None


def build_adapter(kind: str, options: dict[str, Any]) -> ErpAdapter:
    return adapter_class(kind)(adapter_settings(kind, options))
