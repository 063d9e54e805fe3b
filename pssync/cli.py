"""The ``pssync`` console command."""
from __future__ import annotations

import logging
import os

import typer

from pssync.cdc.cli import app as cdc_app
from pssync.console import App
from pssync.devstack.cli import app as stack_app
from pssync.devstack.cli import services_app
from pssync.erp.cli import app as erp_app
from pssync.sinks.cli import app as sinks_app
from pssync.streams.cli import app as streams_app

app = App(no_args_is_help=True, help="PrestaShop <-> ERP change-data-capture and sync.")
app.add_typer(stack_app, name="stack", help="The embedded local stack (Kafka, registry, MariaDB).")
app.add_typer(cdc_app, name="cdc", help="Binlog capture of the PrestaShop database into Kafka.")
app.add_typer(erp_app, name="erp", help="ERP side: change capture, stock snapshots, webhooks, mapping.")
app.add_typer(streams_app, name="streams", help="Stream processors (Faust): shop orders to ERP commands.")
app.add_typer(services_app, name="services", help="Run the whole pipeline locally in the background.")
app.add_typer(sinks_app, name="sink", help="Sinks: apply commands to PrestaShop and the ERP; sync log.")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, os.environ.get("PSSYNC_LOG_LEVEL", "INFO")),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpx2", "httpcore", "pymysqlreplication"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


if __name__ == "__main__":
    app()
