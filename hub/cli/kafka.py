"""`hub kafka up | down | status | credentials`: the local cluster, and principals' client
configurations."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.cluster import credential
from hub.kafka.local import ADMIN, LocalKafka
from hub.settings import Environment, HubSettings

__all__ = ["kafka_app"]

kafka_app = typer.Typer(
    help="The local Kafka cluster (development and tests), and principals' client settings.",
    no_args_is_help=True,
)

_STOP_TIMEOUT_S = 30.0


class Format(StrEnum):
    PROPERTIES = "properties"
    JSON = "json"


@kafka_app.command()
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


@kafka_app.command()
@user_errors
def down() -> None:
    """Stop every node of the local cluster (SIGTERM, then SIGKILL after 30 s)."""
    pid = _local_kafka(load_settings()).stop(timeout=_STOP_TIMEOUT_S)
    typer.echo("kafka: not running" if pid is None else "kafka: stopped")


@kafka_app.command()
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


@kafka_app.command()
@user_errors
def credentials(
    principal: Annotated[
        str, typer.Argument(help="recipient.nav, source.koda, hub, operator, admin, ...")
    ],
    output: Annotated[Format, typer.Option("--format", help="properties or json")] = (
        Format.PROPERTIES
    ),
    rotate: Annotated[bool, typer.Option("--rotate", help="Give it a new password.")] = False,
) -> None:
    """Make PRINCIPAL's SCRAM credential when it is missing, and print its client settings.

    The settings are the property names Kafka's own clients and librdkafka share: hand them to
    the agency or source system that connects as PRINCIPAL. The password is kept (0600) in the
    local cluster's credentials folder."""
    settings = load_settings(ADMIN)
    made = credential(settings, principal, rotate=rotate)
    properties = made.connection.properties()
    if output is Format.JSON:
        typer.echo(json.dumps(properties, indent=2))
    else:
        for key, value in properties.items():
            typer.echo(f"{key}={value}")


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
