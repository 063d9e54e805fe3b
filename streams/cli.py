"""``pssync streams``: run the Faust stream processors."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from pssync.console import ConfigOpt, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command()
def worker(config: Optional[Path] = ConfigOpt,
           loglevel: str = typer.Option("info", help="crit, error, warn, info or debug")) -> None:
    """Run the processors (orders -> ERP sales-order commands) until SIGTERM/SIGINT."""
    settings_or_exit(config)            # validate before Faust starts
    if config is not None:
        os.environ["PSSYNC_CONFIG"] = str(config)
    from streams.app import app as faust_app

    sys.argv = ["pssync-streams", "worker", "-l", loglevel, "--without-web"]
    faust_app.main()
