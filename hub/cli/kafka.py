"""`hub kafka credentials`: principals' client configurations. (`hub kafka up | down | status`,
the local cluster, join this group from the development tools: `hubdev.cli.kafka`.)"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.app import load_settings, user_errors
from hub.cluster import credential
from hub.kafka.credentials import ADMIN

__all__ = ["kafka_app"]

kafka_app = typer.Typer(
    help="The local Kafka cluster (development and tests), and principals' client settings.",
    no_args_is_help=True,
)


class Format(StrEnum):
    PROPERTIES = "properties"
    JSON = "json"


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
