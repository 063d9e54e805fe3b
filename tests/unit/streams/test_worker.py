"""streams/worker.py and the streams package as a whole: importing any streams module reads no
file and connects to nothing, the modules import each other without a circle, and build_app makes
the application with the agents, tables and topics the running system knows (their names are
topic names) or fails with a message saying what to fix."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pssync.schemas.codec import Codec, MemoryStore
from pssync.settings import Settings
from pssync.streams.rules import columns_from_ddl
from pssync.streams.worker import StartupError, build_app

ROOT = Path(__file__).resolve().parents[3]
STREAMS = ROOT / "streams"
COLUMNS = columns_from_ddl(ROOT / "deploy" / "prestashop" / "schema.sql")


def test_every_streams_module_imports_without_config_or_services(tmp_path):
    code = textwrap.dedent("""
        import importlib, pkgutil, socket

        def refuse(*args, **kwargs):
            raise AssertionError(f"network use at import: {args}")

        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        import pssync.streams
        names = sorted(m.name for m in pkgutil.iter_modules(pssync.streams.__path__))
        for name in names:
            importlib.import_module(f"pssync.streams.{name}")
        print(" ".join(names))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    imported = set(run.stdout.split())
    assert {"app", "worker", "dispatch", "orders_hub", "erp_values", "erp_states", "stock_hub", "stock_facts",
            "retention", "cli"} <= imported
    assert imported == {p.stem for p in STREAMS.glob("*.py") if p.stem != "__init__"}


def module_imports(path: Path) -> set[str]:
    """The streams modules a module imports when it is imported (not those imported in functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pssync.streams."):
            found.add(node.module.removeprefix("pssync.streams."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("pssync.streams.") for a in node.names if a.name.startswith("pssync.streams.")}
    return found


def test_streams_modules_import_each_other_without_a_circle():
    graph = {p.stem: module_imports(p) for p in STREAMS.glob("*.py")}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import circle: " + " -> ".join((*path, name))
        if name in done:
            return
        for imported in graph.get(name, ()):
            visit(imported, (*path, name))
        done.add(name)

    for module in graph:
        visit(module, ())


def settings(tmp_path: Path, **streams) -> Settings:
    return Settings(capture={"name": "shop1", "tables": ["orders"]},
                    streams={"order_mapping": str(ROOT / "deploy" / "order_mapping.yaml"),
                             "rules": str(ROOT / "deploy" / "rules.yaml"), "partitions": 3,
                             "commands_topic": "t.commands", **streams})


def test_build_app_registers_the_agents_tables_and_topics_under_their_names(tmp_path):
    built = build_app(settings(tmp_path), columns=COLUMNS, decode=lambda value: None, codec=Codec(MemoryStore()))
    app = built.app
    assert app.conf.id == "pssync-streams-shop1-v4"
    assert sorted(app.agents) == ["shop-events", "stock-events"]
    changelogs = {t.name: (t.changelog_topic.get_topic_name(), t.partitions) for t in app.tables.values()}
    assert changelogs == {name: (f"pssync-streams-shop1-v4-{name}-changelog", 3) for name in (
        "orders", "order-details", "order-history", "references", "pending-orders", "orders-awaiting-mapping",
        "emitted-commands", "order-stock", "erp-levels", "erp-prices", "erp-products", "order-waits",
        "stock-books", "product-skus", "stock-published", "shop-stock", "stock-sent")}
    assert {h: (t.get_topic_name(), t.partitions) for h, t in built.hubs.items()} == {
        "shop": ("pssync-streams-shop1-v4-shop-events", 3), "stock": ("pssync-streams-shop1-v4-stock-events", 3)}
    assert built.shop.outputs.commands.get_topic_name() == "t.commands"
    assert str(app.conf.broker[0]).startswith("kafka+rc://")
    assert (app.conf.key_serializer, app.conf.value_serializer, app.conf.processing_guarantee.value) == (
        "json", "pickle", "at_least_once")
    assert built.router.hubs == {h: t.get_topic_name() for h, t in built.hubs.items()}


def test_a_missing_order_mapping_file_is_named(tmp_path):
    with pytest.raises(StartupError, match=r"streams.order_mapping: .*nowhere.yaml does not exist"):
        build_app(settings(tmp_path, order_mapping=str(tmp_path / "nowhere.yaml")), columns=COLUMNS,
                  decode=lambda value: None)


@pytest.mark.parametrize("key", ["order_mapping", "rules"])
def test_a_missing_file_is_one_line_naming_its_key_and_where_it_was_looked_for(tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)                 # the defaults are relative: deploy/...
    with pytest.raises(StartupError) as raised:
        build_app(settings(tmp_path, **{key: "deploy/missing.yaml"}), columns=COLUMNS, decode=lambda value: None)
    assert str(raised.value) == (
        f"streams.{key}: deploy/missing.yaml does not exist (relative to the working directory {tmp_path}): "
        f"set streams.{key} (or PSSYNC_STREAMS__{key.upper()}) to the file")


@pytest.mark.parametrize("key", ["order_mapping", "rules"])
@pytest.mark.parametrize("text, where", [("a:\n\tb: 1\n", "line 2 column 1"), ("a: [b\n", "line 2 column 1")])
def test_a_file_that_is_not_yaml_is_one_line_with_line_and_column(tmp_path, key, text, where):
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    with pytest.raises(StartupError) as raised:
        build_app(settings(tmp_path, **{key: str(broken)}), columns=COLUMNS, decode=lambda value: None)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"streams.{key}: {broken}: {where}: ")


def test_a_mapping_that_does_not_validate_is_one_line(tmp_path):
    bad = tmp_path / "mapping.yaml"
    bad.write_text("max_line_quantity: 0\n")
    with pytest.raises(StartupError) as raised:
        build_app(settings(tmp_path, order_mapping=str(bad)), columns=COLUMNS, decode=lambda value: None)
    assert str(raised.value) == (f"streams.order_mapping: {bad} is not a valid order mapping: "
                                 "max_line_quantity: Input should be greater than or equal to 1")


def test_rules_that_do_not_fit_the_live_schema_are_listed(tmp_path):
    columns = {table: cols - {"price"} if table == "product" else cols for table, cols in COLUMNS.items()}
    with pytest.raises(StartupError) as caught:
        build_app(settings(tmp_path), columns=columns, decode=lambda value: None)
    assert "streams.rules" in str(caught.value) and "ps_product.price" in str(caught.value)


def test_an_unreachable_shop_database_is_reported_with_the_settings_to_check(tmp_path):
    unreachable = settings(tmp_path).model_copy(update={"mysql": Settings().mysql.model_copy(
        update={"host": "127.0.0.1", "port": 1, "connect_timeout": 2})})
    with pytest.raises(StartupError, match=r"streams.rules.*could not be read.*127.0.0.1:1.*mysql\.\*"):
        build_app(unreachable, decode=lambda value: None)
