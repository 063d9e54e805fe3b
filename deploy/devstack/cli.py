import logging
from collections.abc import Callable
from pathlib import Path
from typing import Optional, TypeVar

import typer

from . import stack
from .errors import StackError
from .settings import StackSettings

T = TypeVar("T")

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    help="Local stack (MariaDB, Kafka, Apicurio Registry, Tryton ERP) without Docker. "
    "Exit codes: 0 ok, 1 error, 2 missing prerequisite, 3 port in use, 4 service failed to start.",
)


def _run(action: Callable[[StackSettings], T]) -> T:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = StackSettings()
    try:
        return action(settings)
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


@app.command()
def up() -> None:
    """Start mariadb, kafka, registry and tryton (idempotent)."""
    _run(stack.up)


@app.command()
def down() -> None:
    """Stop tryton, registry, kafka and mariadb."""
    _run(stack.down)


@app.command()
def status() -> None:
    """One line per service: name, pid, address, healthy. Exit 1 unless all are healthy."""
    statuses = _run(stack.status)
    for item in statuses:
        pid = str(item.pid) if item.pid else "-"
        typer.echo(f"{item.name:<9} pid={pid:<8} {item.address:<28} healthy={'yes' if item.healthy else 'no'}")
    if not all(item.healthy for item in statuses):
        raise typer.Exit(1)


@app.command()
def reset() -> None:
    """Stop everything and delete data dirs (downloads are kept)."""
    removed = _run(stack.reset)
    for path in removed:
        typer.echo(f"removed {path}")


@app.command("place-order")
def place_order(
    line: list[str] = typer.Option(["1:1:1"], "--line", "-l",
                                   help="id_product:id_product_attribute:quantity (repeatable)."),
    customer: int = typer.Option(1, help="id_customer"),
    atomic: bool = typer.Option(False, "--atomic", help="All statements in one transaction (PrestaShop "
                                                          "itself commits each on its own)."),
) -> None:
    """Place an order in the demo shop as PrestaShop's checkout would (stock decremented), statement
    by statement with no transaction, as PaymentModule::validateOrder does."""
    from .shop import Line, place_order as place

    try:
        lines = [Line(*(int(part) for part in item.split(":"))) for item in line]
    except (TypeError, ValueError):
        typer.echo(f"error: --line takes id_product:id_product_attribute:quantity, got {line}", err=True)
        raise typer.Exit(2) from None
    settings = StackSettings()
    id_order = place(settings.mysql_params(), settings.database, settings.table_prefix, lines, customer,
                     atomic=atomic)
    typer.echo(f"placed order {id_order}")


if __name__ == "__main__":
    app()


@app.command()
def demo() -> None:
    """Play the end-to-end scenario on the running system (see `pssync services up`)."""
    from .demo import ScenarioFailed, run

    try:
        run(StackSettings())
    except ScenarioFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


services_app = typer.Typer(no_args_is_help=True)
ConfigPath = typer.Option(None, "--config", "-c", help="Configuration for the services "
                                                       "(default deploy/pipeline.yaml).")


@services_app.command("up")
def services_up(names: Optional[list[str]] = typer.Argument(None, help="Services (default: all)."),
                config: Optional[Path] = ConfigPath) -> None:
    """Start the capture, ERP capture, processors and sinks in the background (idempotent)."""
    from .pipeline import DEFAULT_CONFIG, start

    for s in start(StackSettings(), names, config or DEFAULT_CONFIG):
        typer.echo(f"{s.name:12} pid={s.pid} log={s.log}")


@services_app.command("down")
def services_down(names: Optional[list[str]] = typer.Argument(None)) -> None:
    """SIGTERM, then SIGKILL after 30 s (every service resumes from its committed offsets)."""
    from .pipeline import stop

    for s in stop(StackSettings(), names):
        typer.echo(f"{s.name:12} stopped")


@services_app.command("status")
def services_status() -> None:
    from .pipeline import SERVICES, state

    for name in SERVICES:
        s = state(StackSettings(), name)
        typer.echo(f"{name:12} {'running' if s.running else 'stopped':8} pid={s.pid or '-'} log={s.log}")
