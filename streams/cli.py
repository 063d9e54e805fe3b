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


def source_topics(settings: Settings) -> list[str]:
    from cdc.events import topic_for
    from erp.topics import TOPICS, topic_name

    cap, mysql = settings.capture, settings.mysql
    tables = [mysql.table_prefix + t for t in cap.tables] + list(cap.extra_tables)
    return ([topic_for(cap.topic_prefix, mysql.database, t) for t in tables]
            + [topic_name(settings.erp.topic_prefix, kind) for kind in TOPICS] + [settings.sinks.acks_topic])


def partitioned(partitions: dict[str, int], sources: list[str]) -> list[str]:
    """Source topics with more than one partition, which the processors cannot join yet."""
    return [f"{t} ({partitions[t]} partitions)" for t in sources if partitions.get(t, 1) > 1]


def check_partitions(settings: Settings) -> None:
    """The processors look rows of one order (lines, history) and one product (ERP levels, order
    lines) up in tables filled from other topics: that is only correct while every source topic has
    one partition (co-partitioning by id_order / id_product is not built). Refuse otherwise."""
    from bus.kafka import admin

    try:
        metadata = admin(settings.kafka).list_topics(timeout=settings.kafka.connect_timeout)
    except Exception as exc:
        fail(exc)
    found = partitioned({name: len(t.partitions) for name, t in metadata.topics.items()},
                        source_topics(settings))
    if found:
        fail(ValueError("the stream processors need single-partition source topics (co-partitioning "
                        "is not built yet); these have more: " + ", ".join(found)
                        + ". Recreate them with one partition (kafka.topic_partitions: 1)."))


@app.command()
def worker(config: Optional[Path] = ConfigOpt,
           loglevel: str = typer.Option("info", help="crit, error, warn, info or debug")) -> None:
    """Run the processors (orders -> ERP sales-order commands) until SIGTERM/SIGINT."""
    settings = settings_or_exit(config)            # validate before Faust starts
    ensure_topics(settings)
    check_partitions(settings)
    if config is not None:
        os.environ["PSSYNC_CONFIG"] = str(config)
    from streams.app import app as faust_app

    sys.argv = ["pssync-streams", "worker", "-l", loglevel, "--without-web"]
    faust_app.main()
