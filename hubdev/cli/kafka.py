"""`hub kafka up | down | status`: the local cluster, for development and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.kafka.credentials import ADMIN
from hub.settings import Environment, HubSettings
from hubdev.kafka.local import LocalKafka

__all__ = ["register"]

_STOP_TIMEOUT_S = 30.0


def register(kafka_app: typer.Typer) -> None:
    kafka_app.command("up")(up)
    kafka_app.command("down")(down)
    kafka_app.command("status")(status)


@user_errors
def up(
    brokers: Annotated[
        int | None,
        typer.Option(
            "--brokers",
            help="1, or 3 for replication and failover (default: HUB_LOCAL_KAFKA__BROKERS, 1).",
        ),
    ] = None,
) -> None:
    """Start the local cluster's nodes that are down, and wait until they answer."""
    settings = load_settings()
    local = _local_kafka(settings, brokers)
    result = local.up(timeout=settings.local_kafka.start_timeout_s)
    started = set(result.started)
    for node in result.status.nodes:
        state = "started" if node.node_id in started else "already running"
        typer.echo(f"kafka: node {node.node_id} {state} at {node.address} (pid {node.pid})")
    typer.echo(f"kafka: TLS and SCRAM-SHA-512; CA {_shown(local.ca_file)}")
    typer.echo(f"kafka: admin client settings: `hub kafka credentials {ADMIN}`")


@user_errors
def down() -> None:
    """Stop every node of the local cluster (SIGTERM, then SIGKILL after 30 s)."""
    pid = _local_kafka(load_settings()).stop(timeout=_STOP_TIMEOUT_S)
    typer.echo("kafka: not running" if pid is None else "kafka: stopped")


@user_errors
def status() -> None:
    """List the local cluster's nodes; exit status 1 when any is down."""
    current = _local_kafka(load_settings()).status()
    typer.echo(f"{'node':<5} {'address':<16} {'pid':>8}  {'role':<18} state")
    for node in current.nodes:
        pid = str(node.pid) if node.pid is not None else "-"
        state = "up" if node.running else "down"
        typer.echo(f"{node.node_id:<5} {node.address:<16} {pid:>8}  {node.role:<18} {state}")
    if not current.running:
        raise typer.Exit(code=1)


def _local_kafka(settings: HubSettings, brokers: int | None = None) -> LocalKafka:
    if settings.env is Environment.PRODUCTION:
        raise CliError("`hub kafka` runs a cluster for development and tests, not in production")
    local = settings.local_kafka
    size = brokers if brokers is not None else local.brokers
    if size not in (1, 3):
        raise CliError(f"--brokers must be 1 or 3, not {size}")
    return LocalKafka(
        work_dir=settings.local_kafka_dir,
        brokers=size,
        port=local.port,
        controller_port=local.controller_port,
        heap=local.heap,
    )


def _shown(path: Path) -> Path:
    # Relative when below the current folder, as a person typed it.
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
