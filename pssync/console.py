"""What every ``pssync`` subcommand does the same way: load settings or exit 2 with the
validation report, fail with exit 1 and a one-line reason; a configuration mistake found later,
wherever it is found (librdkafka refusing kafka.client_config, say), ends the command the same way."""
from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn, Optional

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


class App(typer.Typer):
    """The ``pssync`` command: a ConfigError that no subcommand caught is its one line on stderr
    and exit 2, never a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ConfigError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise SystemExit(2) from None
