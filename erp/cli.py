"""``pssync erp``: capture ERP changes, take stock snapshots, receive webhooks, edit the mapping."""
from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from pssync.console import ConfigOpt, fail, settings_or_exit
from pssync.errors import PssyncError
from pssync.settings import ConfigError, Settings

app = typer.Typer(no_args_is_help=True)
mapping_app = typer.Typer(no_args_is_help=True, help="The PrestaShop <-> ERP product mapping table.")
app.add_typer(mapping_app, name="mapping")
log = logging.getLogger("pssync.erp")
FAILURES = (PssyncError,)      # every error pssync raises on purpose: one line, not a traceback




def _adapter(settings: Settings):
    from pssync.erp.registry import build_adapter

    return build_adapter(settings.erp.kind, settings.erp.options())


@app.command()
def poll(config: Optional[Path] = ConfigOpt) -> None:
    """Capture the ERP's changes into the erp.* topics until SIGTERM/SIGINT."""
    from pssync.erp.poller import ErpPoller

    settings = settings_or_exit(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    poller = None
    try:
        poller = ErpPoller(settings, _adapter(settings))
        poller.run(stop)
    except FAILURES as exc:
        fail(exc)
    finally:
        if poller is not None:
            poller.close()


@app.command("snapshot-stock")
def snapshot_stock(wait: bool = typer.Option(False, "--wait", help="When a capture is running: wait until "
                                             "it has published the snapshot."),
                   timeout: float = typer.Option(300, help="Seconds --wait waits."),
                   config: Optional[Path] = ConfigOpt) -> None:
    """Publish a full stock snapshot (self-correcting downstream).

    When the ERP capture (`pssync erp poll`) is running, the request is handed to it through its
    signals topic and it publishes the snapshot in its own loop; only when none runs is the
    snapshot taken here (with the capture's transactional identity).
    """
    from pssync.erp.poller import ErpPoller
    from pssync.erp.signals import capture_running, offsets_end, request_stock_snapshot, wait_outcome

    settings = settings_or_exit(config)
    poller = None
    try:
        if capture_running(settings):
            since = offsets_end(settings)
            signal_id = request_stock_snapshot(settings)
            typer.echo(f"stock snapshot {signal_id} handed over to the running ERP capture "
                       f"{settings.erp.name!r}")
            if wait:
                outcome = wait_outcome(settings, signal_id, since, timeout)
                if outcome.error:
                    fail(PssyncError(f"the ERP capture could not take stock snapshot {signal_id}: {outcome.error}"))
                typer.echo(f"stock snapshot {outcome.snapshot} published by the capture: {outcome.skus} SKUs")
            return
        poller = ErpPoller(settings, _adapter(settings))
        poller.prepare()
        typer.echo(f"stock snapshot {poller.snapshot_stock()} published")
    except FAILURES as exc:
        fail(exc)
    finally:
        if poller is not None:
            poller.close()


@app.command()
def webhook(config: Optional[Path] = ConfigOpt) -> None:
    """Serve the webhook receiver for ERPs that push (settings: erp.webhook)."""
    from pssync.erp.webhook import serve

    settings = settings_or_exit(config)
    if settings.erp.webhook is None:
        fail(ConfigError("erp.webhook is not configured (at least erp.webhook.secret, "
                          "e.g. PSSYNC_ERP__WEBHOOK__SECRET)"))
    serve(settings, settings.erp.webhook)


@app.command()
def tail(kind: Optional[list[str]] = typer.Option(None, "--kind", "-k",
                                                  help="stock, price, product, order_status, shipment"),
         from_beginning: bool = typer.Option(False, "--from-beginning"),
         idle_timeout: Optional[float] = typer.Option(None, help="Stop after this many idle seconds."),
         config: Optional[Path] = ConfigOpt) -> None:
    """Print committed ERP events as JSON lines, decoded through the schema registry."""
    from pssync.cdc.tail import tail_topics, to_line
    from pssync.erp.topics import TOPICS, topic_name

    settings = settings_or_exit(config)
    kinds = kind or list(TOPICS)
    unknown = [k for k in kinds if k not in TOPICS]
    if unknown:
        fail(ConfigError(f"unknown kind(s) {unknown}; known: {', '.join(TOPICS)}"))
    topics = [topic_name(settings.erp.topic_prefix, k) for k in kinds]  # type: ignore[arg-type]
    for topic, key, value in tail_topics(settings, topics, from_beginning, idle_timeout):
        typer.echo(to_line({"topic": topic, "key": key, **(value or {"tombstone": True})}))


@mapping_app.command("load")
def mapping_load(config: Optional[Path] = ConfigOpt) -> None:
    """Map every ERP SKU that names exactly one shop product or combination; report the rest."""
    from pssync.prestashop.database import connect
    from pssync.prestashop.product_map import ErpItem, load_from_catalogue

    settings = settings_or_exit(config)
    try:
        adapter = _adapter(settings)
        items, since, after = [], None, ""
        while True:
            page = adapter.changes("product", since, after, 500)
            items += [ErpItem(c.key, c.record.erp_product_id) for c in page]
            if len(page) < 500:
                break
            since, after = page[-1].ts, page[-1].row_id
        adapter.close()
        conn = connect(settings.mysql)
        conn.autocommit(False)
        report = load_from_catalogue(conn, settings.mysql.table_prefix, settings.erp.name,
                                     {i.sku: i for i in items}.values())
        conn.close()
    except FAILURES as exc:
        fail(exc)
    typer.echo(f"mapped {len(report.mapped)} SKUs; kept {len(report.kept_manual)} manual mappings")
    for item in report.unknown:
        typer.echo(f"unknown SKU (no shop product or combination): {item.sku} (ERP id {item.erp_product_id})")
    for sku, found in report.ambiguous.items():
        typer.echo(f"ambiguous SKU, not mapped: {sku} matches {found}")


@mapping_app.command("set")
def mapping_set(id_product: int = typer.Option(...), id_product_attribute: int = typer.Option(0),
                sku: str = typer.Option(...), erp_product_id: str = typer.Option(...),
                reassign: bool = typer.Option(False, "--reassign", help="Move the SKU even if another product/"
                                              "combination holds it, or replace this one's SKU (left unmapped)."),
                config: Optional[Path] = ConfigOpt) -> None:
    """Map one shop product/combination to an ERP SKU by hand (kept across catalogue loads).

    Refused when the SKU is mapped to another product/combination, or this one has another SKU,
    unless --reassign: then both changes are made in one transaction and printed."""
    from pssync.prestashop.database import connect
    from pssync.prestashop.product_map import Mapping, set_mapping

    settings = settings_or_exit(config)
    try:
        conn = connect(settings.mysql)
        try:
            change = set_mapping(conn, Mapping(settings.erp.name, id_product, id_product_attribute, sku,
                                               erp_product_id, "manual"), reassign=reassign)
        finally:
            conn.close()
    except FAILURES as exc:
        fail(exc)
    typer.echo(change.describe())


@mapping_app.command("show")
def mapping_show(config: Optional[Path] = ConfigOpt,
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """List the mapping table."""
    from dataclasses import asdict

    from pssync.prestashop.database import connect
    from pssync.prestashop.product_map import all_mappings

    settings = settings_or_exit(config)
    conn = connect(settings.mysql)
    rows = all_mappings(conn, settings.erp.name)
    conn.close()
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    for r in rows:
        typer.echo(f"{r.id_product:>6} {r.id_product_attribute:>6}  {r.sku:<24} {r.erp_product_id:<10} {r.source}")
