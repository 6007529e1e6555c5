"""`hub audit verify|anchor export|seal|trail|disclosures|rebuild`: the audit trail for operators
and auditors."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from hub.audit.anchors import AnchorFileError, PinnedCheckpoint, read_anchor_file, write_anchor_file
from hub.audit.projection import Projection
from hub.audit.tools import (
    anchor_lines,
    pinned_checkpoints,
    rebuild_projection,
    report_lines,
    seal_facts,
    sealable,
    verify_topics,
    write_facts,
)
from hub.audit.verify import TrailReport
from hub.bootstrap import load_signer, person_keys
from hub.cli.app import CliError, load_settings, user_errors
from hub.cli.keys import JwksOption, trusted_keys
from hub.operations.actions import record_refusal
from schemas.errors import Reason

__all__ = ["register"]

_NATIONAL_ID = re.compile(r"^\d{11}$")


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The audit trail: verify it, follow a message, disclosures.")
    audit_app.command("verify")(verify)
    anchor_app = typer.Typer(help="Anchors an auditor keeps outside the cluster.")
    anchor_app.command("export")(export_anchors)
    audit_app.add_typer(anchor_app, name="anchor", no_args_is_help=True)
    audit_app.command("seal")(seal)
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
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors", help="An anchor file (`hub audit anchor export`) kept outside the cluster."
        ),
    ] = None,
) -> None:
    """Read the whole audit topic and check every writer's chain; exit 1 unless intact."""
    topic = topic or load_settings("operator").topics.audit
    pinned = _read_anchors(anchors) if anchors else []
    report = _verified(topic, checkpoints, jwks_file, pinned)
    for line in report_lines(report, topic):
        typer.echo(line)
    if not report.intact:
        raise typer.Exit(code=1)


@user_errors
def export_anchors(
    file: Annotated[Path, typer.Argument(help="Where to write the anchors (replaced whole).")],
    topic: Annotated[str | None, typer.Option("--topic", help="Audit topic to read.")] = None,
    checkpoints: Annotated[
        str | None, typer.Option("--checkpoints", help="Topic of the checkpoints' anchors.")
    ] = None,
    jwks_file: JwksOption = None,
) -> None:
    """Write every writer's latest verified checkpoint to FILE, for an auditor to keep."""
    topic = topic or load_settings("operator").topics.audit
    report = _verified(topic, checkpoints, jwks_file, [])
    pinned = pinned_checkpoints(report)
    write_anchor_file(file, pinned, topic=topic, exported=datetime.now(UTC))
    typer.echo(f"audit: {len(pinned)} writers anchored in {file}")
    for line in anchor_lines(report, pinned):
        typer.echo(line)


@user_errors
def seal(
    why: Annotated[str, typer.Option("--why", help="Why these writers are over (on the trail).")],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run/--execute", help="Show what would be sealed (default), or do it."),
    ] = True,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who you are (default: HUB_OPERATOR).")
    ] = None,
) -> None:
    """Close the open chains of writers that died (a killed hub process) where they end, with a
    signed record naming you: from then on, a cut or an addition to them is found."""
    settings = load_settings("operator")
    topic = settings.topics.audit
    dead = sealable(_verified(topic, None, None, []))
    for writer in dead:
        typer.echo(f"  writer {writer.writer}: ends at seq {writer.last_seq}, {writer.last_hash}")
    if dry_run or not dead:
        typer.echo(f"audit: {len(dead)} dead writers to seal" + (" (dry run)" if dead else ""))
        return
    who = operator or settings.operator
    signer = load_signer(settings)
    if not who:
        asyncio.run(record_refusal(settings, signer, "seal", Reason.NO_OPERATOR))
        raise CliError("seal needs an operator: --operator NAME or HUB_OPERATOR (refusal recorded)")
    try:
        facts = seal_facts(dead, operator=who, why=why)
    except ValidationError as exc:
        raise CliError(f"cannot record this seal: {exc.errors()[0]['msg']}") from exc
    asyncio.run(write_facts(settings, signer, facts))
    typer.echo(f"audit: {len(dead)} dead writers sealed by {who}")


def _verified(
    topic: str, checkpoints: str | None, jwks_file: Path | None, pinned: list[PinnedCheckpoint]
) -> TrailReport:
    settings = load_settings("operator")
    return asyncio.run(
        verify_topics(
            settings.kafka_connection(),
            topic,
            checkpoints or settings.topics.audit_checkpoints,
            trusted_keys(jwks_file),
            pinned=pinned,
            grace=timedelta(seconds=settings.audit.live_grace_s),
        )
    )


def _read_anchors(path: Path) -> list[PinnedCheckpoint]:
    try:
        return read_anchor_file(path)
    except AnchorFileError as exc:
        raise CliError(str(exc)) from exc


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
