"""The shape of the code, checked: a record followed through the code only moves forward (capture
-> topics -> processors -> sinks), contracts live in schemas/, each external system has one home,
and there is one dead-letter writer, one retry policy and one place that builds Kafka producers."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("cdc", "streams", "sinks")          # in data-flow order
PACKAGES = ("bus", "cdc", "erp", "prestashop", "pssync", "schemas", "sinks", "streams")


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_stage(stage):
    later = STAGES[STAGES.index(stage) + 1:]
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in sources(stage) for m in imported_modules(p)
                 if any(m == f"pssync.{s}" or m.startswith(f"pssync.{s}.") for s in later)]
    assert not offenders, offenders


def test_contracts_and_homes_import_no_stage():
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in sources("schemas", "prestashop", "bus")
                 for m in imported_modules(p) if any(m.startswith(f"pssync.{s}") for s in STAGES)]
    assert not offenders, offenders


def test_no_generic_top_level_imports_remain():
    pattern = re.compile(rf"^\s*(from|import) ({'|'.join(p for p in PACKAGES if p != 'pssync')}|devstack)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in sources(*PACKAGES, "deploy", "tests", "benchmarks")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def _lines_matching(regex: str, *folders: str) -> dict[str, int]:
    pattern = re.compile(regex)
    hits: dict[str, int] = {}
    for path in sources(*folders):
        count = sum(1 for line in path.read_text(encoding="utf-8").splitlines()
                    if pattern.search(line) and not line.lstrip().startswith("#"))
        if count:
            hits[str(path.relative_to(ROOT))] = count
    return hits


def test_one_module_writes_dead_letter_headers():
    hits = _lines_matching(r'"__connect\.errors\.[a-z.]+"', *PACKAGES)
    assert set(hits) == {"schemas/dead_letters.py"}, hits


def test_kafka_producers_are_built_in_bus_only():
    hits = _lines_matching(r"\bProducer\(", *PACKAGES)
    assert set(hits) <= {"bus/kafka.py"}, hits


def test_backoff_is_computed_by_the_one_retry_policy():
    hits = _lines_matching(r"\*\* ?min\(|2 \*\* |wait_exponential|time\.sleep\(.*\*", *PACKAGES)
    assert set(hits) <= {"pssync/retry.py"}, hits


def test_every_error_class_descends_from_the_root():
    """Classes named *Error, *Failure, or raised as errors, defined in the packages, all descend
    from pssync.errors.PssyncError (checked by importing them)."""
    import importlib
    import inspect

    from pssync.errors import PssyncError

    strays = []
    for path in sources(*PACKAGES):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts if rel.parts[0] == "pssync" else ("pssync", *rel.parts)
        if parts[-1] == "__main__" or "devstack" in parts:
            continue
        name = ".".join(p for p in parts if p != "__init__")
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, Exception) and not issubclass(cls, PssyncError):
                strays.append(f"{name}.{cls_name}")
    assert not strays, strays
