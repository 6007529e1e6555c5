"""`hub kafka up | down | status`: the single-node broker for development and tests."""

from __future__ import annotations

from pathlib import Path

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.kafka.local import KafkaStatus, LocalKafka
from hub.settings import Environment, HubSettings

__all__ = ["kafka_app"]

kafka_app = typer.Typer(
    help="The local single-node Kafka broker (development and tests only).",
    no_args_is_help=True,
)

_STOP_TIMEOUT_S = 30.0


@kafka_app.command()
@user_errors
def up() -> None:
    """Start the local broker and wait until it answers; do nothing if it is running already."""
    settings = load_settings()
    result = _local_kafka(settings).up(timeout=settings.local_kafka.start_timeout_s)
    state = "running" if result.started else "already running"
    typer.echo(f"kafka: {state} {_describe(result.status)}")


@kafka_app.command()
@user_errors
def down() -> None:
    """Stop the local broker (SIGTERM, then SIGKILL after 30 s)."""
    pid = _local_kafka(load_settings()).stop(timeout=_STOP_TIMEOUT_S)
    typer.echo("kafka: not running" if pid is None else f"kafka: stopped (pid {pid})")


@kafka_app.command()
@user_errors
def status() -> None:
    """Show whether the local broker is running; exit status 1 when it is not."""
    current = _local_kafka(load_settings()).status()
    if not current.running:
        typer.echo(
            f"kafka: not running (address {current.address}, data {_shown(current.data_dir)})"
        )
        raise typer.Exit(code=1)
    typer.echo(f"kafka: running {_describe(current)}")


def _local_kafka(settings: HubSettings) -> LocalKafka:
    if settings.env is Environment.PRODUCTION:
        raise CliError("`hub kafka` runs a broker for development and tests, not in production")
    local = settings.local_kafka
    return LocalKafka(
        work_dir=settings.data_dir / "kafka",
        port=local.port,
        controller_port=local.controller_port,
        heap=local.heap,
    )


def _describe(status: KafkaStatus) -> str:
    return f"at {status.address} (pid {status.pid}, data {_shown(status.data_dir)})"


def _shown(path: Path) -> Path:
    # Relative when below the current folder, as a person typed it.
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
