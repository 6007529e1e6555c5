"""`hub audit verify|trail|disclosures|rebuild`: the audit trail for operators and auditors."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time
from typing import Annotated

import typer

from hub.audit.projection import Projection
from hub.audit.tools import rebuild_projection, report_lines, verify_topics
from hub.bootstrap import person_keys
from hub.cli.app import CliError, load_settings, user_errors
from hub.cli.keys import JwksOption, trusted_keys

__all__ = ["register"]

_NATIONAL_ID = re.compile(r"^\d{11}$")


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The audit trail: verify it, follow a message, disclosures.")
    audit_app.command("verify")(verify)
    audit_app.command("trail")(trail)
    audit_app.command("disclosures")(disclosures)
    audit_app.command("rebuild")(rebuild)
    app.add_typer(audit_app, name="audit", no_args_is_help=True)


@user_errors
def verify(
    topic: Annotated[str | None, typer.Option("--topic", help="Audit topic to check.")] = None,
    checkpoints: Annotated[
        str | None, typer.Option("--checkpoints", help="Topic of the checkpoints' anchors.")
    ] = None,
    jwks_file: JwksOption = None,
) -> None:
    """Read the whole audit topic and check every writer's chain; exit 1 unless intact."""
    settings = load_settings("operator")
    topic = topic or settings.topics.audit
    keys = trusted_keys(jwks_file)
    report = asyncio.run(
        verify_topics(
            settings.kafka_connection(),
            topic,
            checkpoints or settings.topics.audit_checkpoints,
            keys,
        )
    )
    for line in report_lines(report, topic):
        typer.echo(line)
    if not report.intact:
        raise typer.Exit(code=1)


@user_errors
def trail(
    message_id: Annotated[
        str, typer.Argument(help="Canonical id, source event id, or dead-letter entry id.")
    ],
) -> None:
    """The journey of one message: source, canonical event, every recipient, receipts."""
    rows = Projection(load_settings("operator").projection_path).trail(message_id)
    if not rows:
        raise CliError(f"no audit record names {message_id} (is the projection current?)")
    for row in rows:
        facts = [
            f"{name}={value}"
            for name, value in (
                ("id", row.message_id),
                ("type", row.event_type),
                ("in", row.input),
                ("out", row.output),
                ("reason", row.reason),
                ("recipient", row.recipient),
                ("rule", row.rule_id),
                ("basis", row.legal_basis),
                ("delivered", row.delivered_id),
                ("status", row.receipt_status),
                ("entry", row.entry_id),
                ("by", row.operator),
            )
            if value
        ]
        typer.echo(f"{row.time}  {row.stage:<10} {row.step:<20} {'  '.join(facts)}")


@user_errors
def disclosures(
    person: Annotated[
        str, typer.Option("--person", help="National identity number (never stored or logged).")
    ],
    since: Annotated[
        datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="From this date.")
    ] = None,
) -> None:
    """Every disclosure about a person: when, to whom, which event, under which rule and basis."""
    if not _NATIONAL_ID.fullmatch(person):
        raise CliError("--person must be an 11-digit national identity number or D-number")
    settings = load_settings("operator")
    subject = person_keys(settings)(person)
    start = datetime.combine(since.date(), time(), UTC) if since else None
    found = Projection(settings.projection_path).disclosures(subject, start)
    heading = f"since {since.date()}" if since else "ever"
    typer.echo(f"disclosures about person {subject} ({heading}): {len(found)}")
    for d in found:
        moved = f" (rule named {d.redirected_from})" if d.redirected_from else ""
        typer.echo(
            f"{d.time}  to {d.recipient}{moved}  {d.event_type}  rule {d.rule_id}: "
            f"{d.legal_basis}  (message {d.message_id})"
        )


@user_errors
def rebuild() -> None:
    """Make the SQLite projection again from the audit topic."""
    settings = load_settings("operator")
    projection = Projection(settings.projection_path)
    count = asyncio.run(
        rebuild_projection(settings.kafka_connection(), settings.topics.audit, projection)
    )
    typer.echo(f"audit: projection {projection.path} rebuilt, {count} records")
