"""``pssync sink``: run the sinks, read the sync log, replay dead letters, re-run a past window."""
from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from pssync.console import ConfigOpt, fail, settings_or_exit
from pssync.settings import Settings

app = typer.Typer(no_args_is_help=True)
log = logging.getLogger("pssync.sinks")
SINKS = ("shop", "erp")


def state_connection(settings: Settings):
    """The database holding the sync log, effects and offsets (sinks.state_database, default the
    shop database: the shop sink's writes and its offsets then commit together)."""
    from cdc.database import connect

    return lambda: connect(settings.mysql, database=settings.sinks.state_database)


def build_applier(settings: Settings, which: str):
    if which == "shop":
        if settings.sinks.prestashop_mode == "webservice":
            from sinks.prestashop_ws import PrestashopWebserviceApplier
            return PrestashopWebserviceApplier(settings)
        from sinks.prestashop_db import PrestashopDbApplier
        return PrestashopDbApplier(settings)
    if which == "erp":
        from erp.registry import build_adapter
        from sinks.erp import ErpApplier
        return ErpApplier(settings, build_adapter(settings.erp.kind, settings.erp.options()))
    raise typer.BadParameter(f"unknown sink {which!r}; choose one of {', '.join(SINKS)}")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def _run(which: str, config: Optional[Path]) -> None:
    from sinks.runner import SinkRunner, SinkStopped

    settings = settings_or_exit(config)
    stop = _stop_on_signals()
    try:
        applier = build_applier(settings, which)
        runner = SinkRunner(settings, applier, state_connection(settings))
        runner.run(stop)
    except SinkStopped:
        pass
    except Exception as exc:  # configuration, connection: named and fatal at start
        fail(exc)
    log.info("sink %s stopped: %s", which, runner.counters)


@app.command()
def shop(config: Optional[Path] = ConfigOpt) -> None:
    """Apply stock, price, order-state and tracking commands to PrestaShop (database or Webservice,
    per sinks.prestashop_mode) until SIGTERM/SIGINT."""
    _run("shop", config)


@app.command()
def erp(config: Optional[Path] = ConfigOpt) -> None:
    """Create and cancel sales orders in the ERP until SIGTERM/SIGINT; acknowledgements go to
    sinks.acks_topic."""
    _run("erp", config)


def _when(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@app.command("log")
def show_log(config: Optional[Path] = ConfigOpt,
             resource: Optional[str] = typer.Option(None, help="stock_available, product_price, order, "
                                                              "order_carrier, sales_order"),
             external_id: Optional[str] = typer.Option(None, "--id", help="SKU or shop reference."),
             outcome: Optional[str] = typer.Option(None, help="applied, duplicate, skipped, retry, dead_letter"),
             since: Optional[str] = typer.Option(None, help="ISO time (UTC unless it has an offset)."),
             until: Optional[str] = typer.Option(None),
             limit: int = typer.Option(50),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """What was sent where, and when: the sync log, newest first."""
    from sinks import synclog

    settings = settings_or_exit(config)
    conn = state_connection(settings)()
    try:
        synclog.ensure_tables(conn)
        rows = synclog.history(conn, resource=resource, external_id=external_id, outcome=outcome,
                               since=_when(since), until=_when(until), limit=limit)
    finally:
        conn.close()
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=1))
        return
    for r in rows:
        typer.echo(f"{r['attempted_at']:%Y-%m-%d %H:%M:%S.%f} {r['direction']:7} {r['resource']}/"
                   f"{r['external_id']} {r['operation']} {r['outcome']:11} src={r['source_event_id']} "
                   f"{r['detail'] or ''}{(' ERROR ' + r['error']) if r['error'] else ''}")
