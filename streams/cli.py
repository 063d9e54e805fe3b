"""``pssync streams``: run the Faust stream processors."""
from __future__ import annotations

import os
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
    from bus.kafka import ensure_topics as create
    from erp.topics import TOPICS, topic_name

    s = settings.streams
    names = [topic_name(settings.erp.topic_prefix, kind) for kind in TOPICS]
    names += [settings.sinks.acks_topic, s.commands_topic, s.shop_commands_topic, s.dead_letter_topic,
              s.violations_topic, s.alerts_topic]
    try:
        create(settings.kafka, {n: {} for n in names}, timeout=settings.kafka.connect_timeout)
    except Exception as exc:
        fail(exc)


@app.command()
def worker(config: Optional[Path] = ConfigOpt,
           loglevel: str = typer.Option("info", help="crit, error, warn, info or debug")) -> None:
    """Run the processors (orders -> ERP sales-order commands) until SIGTERM/SIGINT."""
    settings = settings_or_exit(config)            # validate before Faust starts
    ensure_topics(settings)
    if config is not None:
        os.environ["PSSYNC_CONFIG"] = str(config)
    from streams.app import app as faust_app

    sys.argv = ["pssync-streams", "worker", "-l", loglevel, "--without-web"]
    faust_app.main()
