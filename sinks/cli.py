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
    from pssync.prestashop.database import connect

    return lambda: connect(settings.mysql, database=settings.sinks.state_database)


def build_applier(settings: Settings, which: str):
    if which == "shop":
        if settings.sinks.prestashop_mode == "webservice":
            from pssync.sinks.prestashop_ws import PrestashopWebserviceApplier
            return PrestashopWebserviceApplier(settings)
        from pssync.sinks.prestashop_db import PrestashopDbApplier
        return PrestashopDbApplier(settings)
    if which == "erp":
        from pssync.erp.registry import build_adapter
        from pssync.sinks.erp import ErpApplier
        adapter = build_adapter(settings.erp.kind, settings.erp.options())
        adapter.check()          # refused credentials stop the sink at start, not at its first command
        return ErpApplier(settings, adapter)
    raise typer.BadParameter(f"unknown sink {which!r}; choose one of {', '.join(SINKS)}")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def _run(which: str, config: Optional[Path]) -> None:
    from pssync.sinks.runner import SinkRunner, SinkStopped

    settings = settings_or_exit(config)
    stop = _stop_on_signals()
    applier = runner = None
    try:
        applier = build_applier(settings, which)
        runner = SinkRunner(settings, applier, state_connection(settings))
        runner.run(stop)
    except SinkStopped:
        pass
    except Exception as exc:  # configuration, connection: named; a supervisor restarts the sink
        fail(exc)
    finally:
        if applier is not None:
            applier.close()
        if runner is not None:
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
    from pssync.sinks import synclog

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


# ---- dead letters and past windows (logic in sinks/replay.py) -------------------------------------

DLQ_HELP = ("Dead-letter topic; default sinks.dead_letter_topic. Any dead-letter topic is accepted; "
            "'sinks', 'streams' and 'cdc' name the sinks', the processors' and the capture's.")


def _dlq_topic(settings: Settings, topic: str | None) -> str:
    if topic in (None, "", "sinks"):
        return settings.sinks.dead_letter_topic
    if topic == "streams":
        return settings.streams.dead_letter_topic
    if topic == "cdc":
        from pssync.cdc.capture import dead_letter_topic
        return dead_letter_topic(settings)
    return topic


def _time_option(value: str | None, name: str) -> dt.datetime | None:
    from pssync.sinks.replay import parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


class _StopOnSignals:
    """SIGTERM/SIGINT set the event while a bounded command runs; the previous handlers come back
    afterwards (only the main thread may install handlers: elsewhere nothing is installed)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, lambda *_: self.event.set())
        return self.event

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@app.command("dead-letters")
def dead_letters(config: Optional[Path] = ConfigOpt,
                 topic: Optional[str] = typer.Option(None, help=DLQ_HELP),
                 since: Optional[str] = typer.Option(None, help="Only records from this ISO time "
                                                              "(UTC unless it has an offset)."),
                 limit: int = typer.Option(50, min=0, help="Show the newest N."),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """List a dead-letter topic (read_committed, to its end): where each record came from, the
    sink, the reason, the key and the start of the value."""
    from confluent_kafka import KafkaException

    from pssync.schemas.codec import Codec
    from pssync.schemas.dead_letters import preview
    from pssync.sinks import replay

    settings = settings_or_exit(config)
    name = _dlq_topic(settings, topic)
    since_at = _time_option(since, "--since")
    try:
        records = replay.read_dead_letters(settings.kafka, name, since=since_at, limit=limit,
                                           timeout=settings.kafka.connect_timeout)
    except replay.TopicMissing:
        records = []
        typer.echo(f"topic {name} does not exist: no dead letters", err=True)
    except (KafkaException, TimeoutError) as exc:
        fail(exc)
    show = Codec.from_settings(settings).show     # registered Avro shown as its JSON
    if as_json:
        typer.echo(json.dumps([r.as_dict(show=show) for r in records], indent=1))
        return
    for r in records:
        stamp = f"{r.timestamp:%Y-%m-%d %H:%M:%S.%f}"[:-3] if r.timestamp else "-"
        typer.echo(f"{r.partition}:{r.offset} {stamp} from {r.origin} sink={r.sink or '-'} "
                   f"{r.error_class or 'error'}: {r.reason or '(no reason given)'}")
        typer.echo(f"    key={preview(r.key, 40)} value={show(r.value, 100)}"
                   + (f" (replay of {r.replayed_from})" if r.replayed_from else ""))
    typer.echo(f"{len(records)} dead letter(s) shown from {name}"
               + (f" (the newest {limit})" if records and len(records) == limit else ""), err=True)


@app.command()
def replay(config: Optional[Path] = ConfigOpt,
           offsets: Optional[list[str]] = typer.Option(
               None, "--offset", help="Dead letter to replay: N (in --partition) or PARTITION:N; repeatable."),
           partition: int = typer.Option(0, min=0, help="Partition of offsets given as N."),
           everything: bool = typer.Option(False, "--all", help="Every dead letter of the topic "
                                                                "(from --since, if given)."),
           since: Optional[str] = typer.Option(None, help="With --all: only records from this ISO time."),
           topic: Optional[str] = typer.Option(None, help=DLQ_HELP),
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Send dead letters back to the topic they were consumed from: original key, value and
    headers, plus pssync.replayed-from. Safe to repeat: a command applied since is logged as a
    duplicate. Records without their original topic (the processors' envelopes, the capture's
    rows) are refused."""
    from confluent_kafka import KafkaException

    from pssync.sinks import replay as rp

    from pssync.schemas.dead_letters import preview

    if bool(offsets) == everything:
        raise typer.BadParameter("give --offset N (repeatable) or --all", param_hint="--offset/--all")
    if since is not None and not everything:
        raise typer.BadParameter("--since goes with --all", param_hint="--since")
    try:
        positions = rp.parse_positions(offsets or [], partition) if offsets else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--offset") from None
    settings = settings_or_exit(config)
    name = _dlq_topic(settings, topic)
    since_at = _time_option(since, "--since")
    timeout = settings.kafka.connect_timeout
    try:
        records = rp.read_dead_letters(settings.kafka, name, since=since_at, positions=positions, timeout=timeout)
    except rp.TopicMissing as exc:
        fail(exc)
    except (KafkaException, TimeoutError) as exc:
        fail(exc)
    chosen, missing = rp.select(records, positions, everything=everything)
    for p, o in missing:
        typer.secho(f"{name}:{p}:{o}: no such dead letter (beyond the end, expired, or a transaction marker)",
                    fg=typer.colors.RED, err=True)
    if not chosen:
        typer.echo(f"nothing to replay from {name}", err=True)
        raise typer.Exit(1 if missing else 0)

    plan, refused = [], 0
    for r in chosen:
        try:
            target, target_partition = rp.replay_target(r, name)
            plan.append(f"  {name}:{r.partition}:{r.offset} -> {target}[{target_partition}] "
                        f"(was offset {r.original_offset}: {r.reason or 'no reason given'})")
        except rp.Refused as exc:
            plan.append(f"  refused: {exc}")
            refused += 1
    if refused == len(chosen):
        typer.secho("\n".join(line.strip() for line in plan), fg=typer.colors.RED, err=True)
        typer.echo(f"0 of {len(chosen)} replayed")
        raise typer.Exit(1)
    if not yes:
        typer.echo(f"replay {len(chosen)} dead letter(s) from {name}:\n" + "\n".join(plan))
        typer.confirm("Replay them?", abort=True)
    try:
        results = rp.replay(settings.kafka, chosen, timeout=timeout)
    except KafkaException as exc:
        fail(exc)
    for res in results:
        r = res.record
        if res.ok:
            typer.echo(f"replayed {name}:{r.partition}:{r.offset} -> {res.topic}[{res.partition}]@{res.offset} "
                       f"(originally @{r.original_offset}; key {preview(r.key, 40)})")
        else:
            typer.secho(res.error or "failed", fg=typer.colors.RED, err=True)
    done = sum(1 for res in results if res.ok)
    typer.echo(f"{done} of {len(results)} replayed")
    if done < len(results) or missing:
        raise typer.Exit(1)


@app.command()
def rerun(which: str = typer.Argument(..., help="shop or erp"),
          config: Optional[Path] = ConfigOpt,
          from_time: Optional[str] = typer.Option(None, help="Start: first record at or after this ISO time."),
          to_time: Optional[str] = typer.Option(None, help="End (excluded): first record at or after this "
                                                           "ISO time; default the current end."),
          from_offset: Optional[int] = typer.Option(None, min=0, help="Start offset."),
          to_offset: Optional[int] = typer.Option(None, min=0, help="End offset (excluded); default the "
                                                                    "current high watermark."),
          partition: Optional[int] = typer.Option(None, min=0, help="Only this partition (default all).")) -> None:
    """Apply a past window of the sink's command topic again, without moving the sink's stored
    offsets. Commands applied before are logged as duplicates; the others are applied."""
    from confluent_kafka import KafkaException

    from pssync.sinks import replay as rp
    from pssync.sinks.runner import SinkStopped

    if which not in SINKS:
        raise typer.BadParameter(f"choose one of {', '.join(SINKS)}", param_hint="WHICH")
    if (from_time is None) == (from_offset is None):
        raise typer.BadParameter("give --from-time or --from-offset", param_hint="--from-time/--from-offset")
    if to_time is not None and from_time is None:
        raise typer.BadParameter("--to-time goes with --from-time", param_hint="--to-time")
    if to_offset is not None and from_offset is None:
        raise typer.BadParameter("--to-offset goes with --from-offset", param_hint="--to-offset")
    start_at, end_at = _time_option(from_time, "--from-time"), _time_option(to_time, "--to-time")
    if start_at and end_at and end_at <= start_at:
        raise typer.BadParameter("--to-time must be after --from-time", param_hint="--to-time")
    if from_offset is not None and to_offset is not None and to_offset <= from_offset:
        raise typer.BadParameter("--to-offset must be greater than --from-offset", param_hint="--to-offset")

    settings = settings_or_exit(config)
    applier = None
    try:
        applier = build_applier(settings, which)
        windows = []
        for topic in applier.topics:
            windows += rp.resolve_windows(settings.kafka, topic, partitions=None if partition is None else [partition],
                                          from_offset=from_offset, to_offset=to_offset, from_time=start_at,
                                          to_time=end_at, timeout=settings.kafka.connect_timeout)
        for window in windows:
            typer.echo(f"rerun {applier.name}: {window}")
        with _StopOnSignals() as stop:
            report = rp.rerun(settings, applier, state_connection(settings), windows, stop)
    except SinkStopped:
        typer.secho("stopped: the window was not finished (what was committed stays)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except (typer.Exit, typer.BadParameter):
        raise
    except (rp.TopicMissing, ValueError, KafkaException, TimeoutError) as exc:
        fail(exc)
    except Exception as exc:  # configuration, connection
        fail(exc)
    finally:
        close = getattr(applier, "close", None)
        if close is not None:
            close()
    c = report.counts
    typer.echo(f"{report.seen} record(s): applied {c['applied']}, duplicate {c['duplicate']}, "
               f"skipped {c['skipped']}, dead_letter {c['dead_letter']}"
               + (f" ({c['retries']} retries)" if c["retries"] else ""))
