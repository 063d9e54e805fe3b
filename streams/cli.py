"""``pssync streams``: run the Faust stream processors."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from pssync.console import ConfigOpt, fail, settings_or_exit
from pssync.settings import Settings

app = typer.Typer(no_args_is_help=True)


def ensure_topics(settings: Settings) -> None:
    """Faust ignores a source topic missing at start and never subscribes to it later: create the
    ERP and acknowledgement topics (and our outputs) before it starts."""
    from pssync.bus.kafka import ensure_topics as create
    from pssync.erp.topics import TOPICS, topic_name

    s = settings.streams
    names = [topic_name(settings.erp.topic_prefix, kind) for kind in TOPICS]
    names += [settings.sinks.acks_topic, s.commands_topic, s.shop_commands_topic, s.dead_letter_topic,
              s.violations_topic, s.alerts_topic]
    try:
        create(settings.kafka, {n: {} for n in names}, timeout=settings.kafka.connect_timeout)
        # the router writes to the processors' internal topics before Faust would create them
        create(settings.kafka, {n: {} for n in hub_topics(settings)}, timeout=settings.kafka.connect_timeout,
               partitions=settings.streams.partitions)
    except Exception as exc:
        fail(exc)


def hub_topics(settings: Settings) -> list[str]:
    from pssync.streams.routes import app_id, hub_topic_name

    return [hub_topic_name(app_id(settings.capture.name), hub) for hub in ("shop", "stock")]


def mismatched(partitions: dict[str, int], hubs: list[str], wanted: int) -> list[str]:
    """Internal topics that exist with another partition count than ``streams.partitions``."""
    return [f"{t} ({partitions[t]} partitions)" for t in hubs if t in partitions and partitions[t] != wanted]


def check_partitions(settings: Settings) -> None:
    """The processors keep their state by partition of their internal topics: once they have run,
    the number cannot change under them. Refuse, naming the topics, rather than look up the wrong
    partition. (Source topics may have any number of partitions.)"""
    from pssync.bus.kafka import admin

    try:
        metadata = admin(settings.kafka).list_topics(timeout=settings.kafka.connect_timeout)
    except Exception as exc:
        fail(exc)
    wanted = settings.streams.partitions
    found = mismatched({name: len(t.partitions) for name, t in metadata.topics.items()},
                       hub_topics(settings), wanted)
    if found:
        fail(ValueError(f"streams.partitions is {wanted} but the processors' internal topics have another "
                        "count: " + ", ".join(found) + ". Their state is kept by partition: set "
                        "streams.partitions back, or delete these topics and the application's changelog "
                        "topics so the processors rebuild their state from the source topics."))


@app.command()
def worker(config: Optional[Path] = ConfigOpt,
           loglevel: str = typer.Option("info", help="crit, error, warn, info or debug")) -> None:
    """Run the processors until SIGTERM/SIGINT; start several to share the work (streams.partitions)."""
    settings = settings_or_exit(config)            # validate before Faust starts
    from pssync.errors import PssyncError
    from pssync.streams.app import keep_log_level
    from pssync.streams.worker import build_app

    try:
        built = build_app(settings)                # order mapping, rules against the live schema, registry
    except PssyncError as exc:                     # StartupError, or the registry refusing/unreachable
        fail(exc)
    check_partitions(settings)
    ensure_topics(settings)
    keep_log_level(built.app, loglevel)
    thread = built.router.start()
    sys.argv = ["pssync-streams", "worker", "-l", loglevel, "--without-web"]
    try:
        built.app.main()
    finally:
        built.router.close(thread)
