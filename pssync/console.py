"""What every ``pssync`` subcommand does the same way: load settings or exit 2 with the
validation report, fail with exit 1 and a one-line reason."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Optional

import typer

from pssync.settings import ConfigError, Settings, load_settings

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config file (env PSSYNC_* overrides it).")


def settings_or_exit(config: Optional[Path]) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1) from None
