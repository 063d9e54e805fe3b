"""``pssync cdc``: run the capture, snapshot tables on demand, show where it stands."""
from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from pssync.errors import PssyncError
from pssync.cdc.errors import CaptureError
from pssync.cdc.offsets import OffsetStore
from pssync.cdc.status import capture_status
from pssync.console import ConfigOpt, fail, settings_or_exit

app = typer.Typer(no_args_is_help=True)
log = logging.getLogger("pssync.cdc")





@app.command()
def run(config: Optional[Path] = ConfigOpt,
        metrics_port: Optional[int] = typer.Option(None, help="Serve Prometheus metrics on this port."),
        quiet: bool = typer.Option(False, help="No snapshot progress bars."),
        resnapshot: bool = typer.Option(False, help="Take a new initial snapshot and stream from it "
                                        "(after the binlog at the stored position was purged).")) -> None:
    """Snapshot (first run) then stream the binlog into Kafka, until SIGTERM/SIGINT."""
    from pssync.cdc.capture import Capture

    settings = settings_or_exit(config)
    if metrics_port:
        from prometheus_client import start_http_server
        start_http_server(metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    capture = Capture(settings, on_commit=lambda off, n: log.debug("committed %d events up to %s", n, off.gtid))
    try:
        capture.prepare()
        if resnapshot or capture.committed is None or not capture.committed.snapshot_completed:
            if resnapshot or settings.capture.snapshot_mode != "never":
                capture.snapshot(progress=not quiet, resume=not resnapshot, stop=stop)
                if stop.is_set():
                    return
        start = capture.start_position()
        log.info("capture %r running; Ctrl-C to stop", settings.capture.name)
        capture.stream_resilient(start, stop)
    except PssyncError as exc:
        fail(exc)
    finally:
        capture.close()


@app.command()
def snapshot(table: list[str] = typer.Option(..., "--table", "-t", help="Unprefixed table name."),
             config: Optional[Path] = ConfigOpt) -> None:
    """Ask the capture to re-emit the current rows of some tables (op 'r', snapshot 'incremental').

    The request goes through the signals topic; the running capture (or the next one started)
    reads the tables in chunks while it keeps streaming, and emits each chunk at the binlog
    position it was read at, so no change is reordered or lost.
    """
    from pssync.cdc.signals import request_snapshot

    settings = settings_or_exit(config)
    unknown = [t for t in table if t not in settings.capture.tables]
    if unknown:
        fail(CaptureError(f"not captured tables: {', '.join(unknown)} (see capture.tables)"))
    try:
        signal_id = request_snapshot(settings, list(table))
    except (PssyncError, RuntimeError) as exc:
        fail(exc)
    typer.echo(f"snapshot of {', '.join(table)} requested (signal {signal_id}); "
               "the capture emits it while streaming")


@app.command()
def status(config: Optional[Path] = ConfigOpt,
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Where the capture stands: committed position, binlog head, and how far behind it is."""
    settings = settings_or_exit(config)
    try:
        report = capture_status(settings, OffsetStore(settings.kafka, settings.capture.offsets_topic,
                                                      settings.capture.name))
    except PssyncError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for k, v in report.items():
        if k == "held_tables":
            typer.echo(f"{k:>22}: {len(v) or 'none'}")
            for held in v:
                for hk, hv in held.items():
                    typer.echo(f"{'  ' + hk:>22}: {hv}")
            continue
        typer.echo(f"{k:>22}: {v}")


@app.command()
def resolve(table: str = typer.Argument(..., help="Unprefixed name of the held table."),
            mode: str = typer.Option(..., "--mode", help="force: register the refused schema all the same "
                                     "(compatibility NONE for it); retry: register again as is (after "
                                     "the registry was changed to accept it)."),
            config: Optional[Path] = ConfigOpt) -> None:
    """Resume a table held on a schema conflict (see `pssync cdc status`).

    The running capture (or the next one started) reads the binlog again from the position the
    table was held at and emits its events from there, in order, none lost, while the other tables
    (already in Kafka for that stretch) are skipped; then every table streams on.
    """
    from pssync.cdc.capture import RESOLVE_MODES
    from pssync.cdc.errors import SchemaConflict
    from pssync.cdc.signals import request_resolve

    settings = settings_or_exit(config)
    if mode not in RESOLVE_MODES:
        fail(CaptureError(f"--mode must be {' or '.join(RESOLVE_MODES)}, not {mode!r}"))
    if table not in settings.capture.tables:
        fail(CaptureError(f"not a captured table: {table} (see capture.tables)"))
    full = settings.mysql.table_prefix + table
    try:
        offset = OffsetStore(settings.kafka, settings.capture.offsets_topic, settings.capture.name).load()
        if offset is None or full not in {h.table for h in offset.held}:
            held = ", ".join(h.table for h in offset.held) if offset is not None else ""
            raise SchemaConflict(f"{full} is not held (held tables: {held or 'none'}; see pssync cdc status)")
        signal_id = request_resolve(settings, table, mode)
    except (PssyncError, RuntimeError) as exc:
        fail(exc)
    typer.echo(f"{table}: resolve ({mode}) requested (signal {signal_id}); the capture reads its held "
               "events again and sends them, then streams it with the others")


@app.command()
def tail(table: Optional[list[str]] = typer.Option(None, "--table", "-t", help="Unprefixed table name (default: all captured)."),
         from_beginning: bool = typer.Option(False, "--from-beginning", help="Start at the oldest event."),
         idle_timeout: Optional[float] = typer.Option(None, help="Stop after this many seconds without events."),
         config: Optional[Path] = ConfigOpt) -> None:
    """Print committed change events as JSON lines, decoded through the schema registry."""
    from pssync.cdc.tail import tail as tail_events, to_line

    settings = settings_or_exit(config)
    for event in tail_events(settings, table or settings.capture.tables, from_beginning, idle_timeout):
        typer.echo(to_line(event))
