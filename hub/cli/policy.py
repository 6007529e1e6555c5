"""`hub policy check|show|explain` and `hub alerts`: parse, hand over, print."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.recipients.alerts import AnyAlert
from hub.reference._csv import ReferenceError
from hub.routing.policy import Policy, PolicyError, load_policy
from hub.tools.policy import (
    consent_in_force,
    event_json,
    explain_lines,
    find_event,
    open_alerts,
    rule_rows,
)
from schemas.alerts import Alert

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="The routing policy: check a file, show the rules, explain.")
    policy_app.command("check")(check)
    policy_app.command("show")(show)
    policy_app.command("explain")(explain_message)
    app.add_typer(policy_app, name="policy", no_args_is_help=True)
    app.command("alerts")(alerts)


def _policy(path: Path | None = None) -> Policy:
    try:
        return load_policy(path or load_settings().routing.policy_path)
    except (PolicyError, ReferenceError) as exc:
        raise CliError(str(exc)) from None


@user_errors
def check(
    file: Annotated[Path, typer.Argument(help="The policy file to check before a restart.")],
) -> None:
    """Check a policy file as the hub would at start-up; exit 2 with the first mistake."""
    policy = _policy(file)
    typer.echo(f"{file}: valid, {len(policy.rules)} rules for {len(policy.recipients)} recipients")


@user_errors
def show() -> None:
    """Print the effective rules of the configured policy as a table."""
    rows = rule_rows(_policy())
    widths = [min(max(len(r[i]) for r in rows), 48) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell[:48].ljust(w) for cell, w in zip(row, widths, strict=True)))


@user_errors
def explain_message(
    message_id: Annotated[str, typer.Argument(help="The canonical event's id.")],
) -> None:
    """Which rules matched a canonical event, and why the others did not."""
    settings = load_settings("operator")
    policy = _policy()
    record = asyncio.run(find_event(settings, message_id))
    if record is None:
        raise CliError(f"no canonical event {message_id} on {settings.topics.events}")
    event = event_json(record)
    consents = asyncio.run(consent_in_force(settings, event["subject"]))
    for line in explain_lines(policy, event, consents):
        typer.echo(line)


def _about(alert: AnyAlert) -> str:
    if isinstance(alert, Alert):
        return f"{alert.recipient:<20} message {alert.messageid}"
    if alert.entryid is not None:
        return f"{alert.topic}[{alert.partition}] entry {alert.entryid}"
    return f"{alert.group} on {alert.topic}[{alert.partition}]"


@user_errors
def alerts(
    include_resolved: Annotated[
        bool, typer.Option("--all", help="Resolved alerts too, not only open ones.")
    ] = False,
) -> None:
    """List open alerts: late notices, overdue and rejected receipts, expired records,
    dead letters near their retention."""
    found = asyncio.run(open_alerts(load_settings("operator"), include_resolved=include_resolved))
    for alert in found:
        typer.echo(
            f"{alert.raisedat.isoformat()}  {alert.state.value:<8} {alert.kind.value:<16} "
            f"{_about(alert)}  {alert.detail}"
        )
    typer.echo(f"({len(found)} {'alerts' if include_resolved else 'open alerts'})", err=True)
