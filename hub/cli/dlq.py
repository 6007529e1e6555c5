"""`hub dlq list | show | replay | discard`: dead-letter triage for operations staff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from hub.bootstrap import load_signer
from hub.cli.app import CliError, load_settings, user_errors
from hub.operations.actions import (
    DiscardPlan,
    Held,
    ReplayPlan,
    discard,
    masked,
    plan_discard,
    plan_replay,
    record_refusal,
    replay,
    reveal,
)
from hub.operations.entries import (
    DeadLetter,
    Selection,
    load_dead_letters,
    parked_counts,
    resolve_ids,
    select,
    shown_headers,
    shown_key,
)
from hub.operations.entries import parse_since as entries_since
from hub.privacy import mask_text
from hub.settings import HubSettings
from schemas.errors import Reason

__all__ = ["dlq_app", "parse_since"]

dlq_app = typer.Typer(
    help="Dead-letter entries: list, show (masked), replay and discard them.",
    no_args_is_help=True,
)

StageOpt = Annotated[
    str | None, typer.Option("--stage", help="Only this stage (ingest, route_nav, ...).")
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Only this reason code.")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Only since: 2026-11-20, 2026-11-20T08:00, 6h, 2d.")
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only from this source system.")]
OperatorOpt = Annotated[
    str | None, typer.Option("--operator", help="Who you are (default: HUB_OPERATOR).")
]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run/--execute", help="Show what would happen (default), or do it."),
]


@dlq_app.command("list")
@user_errors
def list_entries(
    stage: StageOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    source: SourceOpt = None,
    include_all: Annotated[bool, typer.Option("--all", help="Resolved entries too.")] = False,
) -> None:
    """A table of dead-letter entries: open ones unless --all."""
    settings = load_settings("operator")
    entries = asyncio.run(load_dead_letters(settings))
    selection = Selection(
        stage=stage,
        reason=reason,
        since=parse_since(since),
        source=source,
        include_resolved=include_all,
    )
    chosen = select(entries, selection)
    behind = parked_counts(entries)
    head = f"{'ID':<9}{'TIME':<17}{'STAGE':<22}{'REASON':<26}{'SOURCE':<7}{'PARKED':>6}"
    typer.echo(f"{head}  {'STATUS':<10}REASON TEXT")
    for e in chosen:
        typer.echo(
            f"{e.short_id:<9}{e.time.astimezone(UTC):%Y-%m-%d %H:%M} {e.stage[:21]:<22}"
            f"{e.reason[:25]:<26}{e.source[:6]:<7}{behind.get(e.id, 0):>6}  {e.status.value:<10}"
            f"{mask_text(e.reason_text)[:60]}"
        )
    typer.echo(f"({len(chosen)} of {len(entries)} entries)", err=True)


@dlq_app.command("show")
@user_errors
def show(
    entry_id: Annotated[str, typer.Argument(help="Entry id, or its first 8+ characters.")],
    reveal_clear: Annotated[
        bool, typer.Option("--reveal", help="Show names and numbers in clear (needs --why).")
    ] = False,
    why: Annotated[str | None, typer.Option("--why", help="Why you need to see it.")] = None,
    operator: OperatorOpt = None,
) -> None:
    """One entry: where it came from, why it failed, its payload (masked unless --reveal)."""
    settings = load_settings("operator")
    entries = asyncio.run(load_dead_letters(settings))
    entry = _one(entries, entry_id)
    _print_entry(entry, parked_counts(entries).get(entry.id, 0))
    if not reveal_clear:
        typer.echo("── payload (names and identity numbers masked; --reveal --why to see them)")
        typer.echo(masked(entry))
        return
    if not why:
        raise CliError("--reveal needs --why: the reason goes on the audit trail")
    who = _operator(settings, operator, "reveal")
    clear = asyncio.run(
        reveal(entry, settings=settings, operator=who, why=why, signer=load_signer(settings))
    )
    typer.echo(f"── payload in clear (revealed by {who}, on the audit trail)")
    typer.echo(clear)


@dlq_app.command("replay")
@user_errors
def replay_entries(
    entry_ids: Annotated[
        list[str] | None, typer.Argument(help="Entry ids (or 8+ char prefixes).")
    ] = None,
    stage: StageOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    source: SourceOpt = None,
    dry_run: DryRunOpt = True,
    rate: Annotated[
        float | None, typer.Option("--rate", min=0.1, help="At most N records a second.")
    ] = None,
    operator: OperatorOpt = None,
) -> None:
    """Put entries back at the start of their stage, with replay headers (dry run by default)."""
    settings = load_settings("operator")
    entries = asyncio.run(load_dead_letters(settings))
    selection = Selection(
        ids=resolve_ids(entries, entry_ids or []),
        stage=stage,
        reason=reason,
        since=parse_since(since),
        source=source,
    )
    if selection.empty:
        raise CliError("say which entries: ids, or --reason / --stage / --since / --source")
    who = operator or settings.operator or "(dry run)"
    if not dry_run:
        who = _operator(settings, operator, "replay")
    plan = plan_replay(entries, select(entries, selection), operator=who, now=datetime.now(UTC))
    _print_replay_plan(plan, dry_run=dry_run)
    if dry_run or not plan.runs:
        return
    sent = asyncio.run(
        replay(settings, plan, operator=who, signer=load_signer(settings), rate=rate)
    )
    typer.echo(f"replayed {len(sent)} entr{'y' if len(sent) == 1 else 'ies'} as {who}")


@dlq_app.command("discard")
@user_errors
def discard_entries(
    entry_ids: Annotated[list[str], typer.Argument(help="Entry ids (or 8+ char prefixes).")],
    why: Annotated[str, typer.Option("--why", help="Why they need not be sent (on the trail).")],
    dry_run: DryRunOpt = True,
    operator: OperatorOpt = None,
) -> None:
    """Mark entries resolved without sending them (dry run by default); whoever they held back
    is released and sent on."""
    settings = load_settings("operator")
    entries = asyncio.run(load_dead_letters(settings))
    chosen = select(entries, Selection(ids=resolve_ids(entries, entry_ids)))
    who = operator or settings.operator or "(dry run)"
    if not dry_run:
        who = _operator(settings, operator, "discard")
    plan = plan_discard(entries, chosen, operator=who, now=datetime.now(UTC))
    _print_discard_plan(plan, dry_run=dry_run)
    if dry_run or not plan.discarded:
        return
    asyncio.run(discard(settings, plan, operator=who, why=why, signer=load_signer(settings)))
    typer.echo(f"discarded {len(plan.discarded)} as {who}")


def parse_since(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """`--since` as `hub.operations.entries.parse_since` reads it; a bad value is one line."""
    try:
        return entries_since(text, now=now)
    except ValueError as exc:
        raise CliError(f"--since {exc}") from None


def _operator(settings: HubSettings, given: str | None, action: str) -> str:
    who = given or settings.operator
    if who:
        return who
    asyncio.run(record_refusal(settings, load_signer(settings), action, Reason.NO_OPERATOR))
    raise CliError(
        f"{action} needs an operator: --operator NAME or HUB_OPERATOR (refusal recorded)"
    )


def _one(entries: list[DeadLetter], given: str) -> DeadLetter:
    (entry_id,) = resolve_ids(entries, [given])
    return next(e for e in entries if e.id == entry_id)


def _print_entry(entry: DeadLetter, parked: int) -> None:
    lines = [
        ("entry", entry.id),
        ("status", entry.status.value),
        ("stage", f"{entry.stage} (group {entry.group})"),
        ("reason", f"{entry.reason}: {mask_text(entry.reason_text)}"),
        ("error class", f"{entry.error_class}, {entry.attempts} attempt(s)"),
        ("time", entry.time.isoformat()),
        ("came from", f"{entry.origin} ({entry.source})"),
        ("stored at", str(entry.position)),
        ("key", shown_key(entry.key)),
    ]
    if entry.parked_behind:
        lines.append(("parked behind", entry.parked_behind))
    if parked:
        lines.append(
            (
                "holding back",
                f"{parked} later entr{'y' if parked == 1 else 'ies'} of the same person",
            )
        )
    if entry.resolution:
        r = entry.resolution
        lines.append((r.status.value, f"by {r.operator} at {r.time.isoformat()}"))
    for name, value in lines:
        typer.echo(f"{name + ':':<15}{value}")
    typer.echo("── headers of the input")
    for name, value in shown_headers(entry.headers):
        typer.echo(f"   {name}: {value}")


def _print_replay_plan(plan: ReplayPlan, *, dry_run: bool) -> None:
    verb = "would replay" if dry_run else "replaying"
    for run in plan.runs:
        for item in run:
            tail = f"  (parked behind {item.behind[:8]}, goes back with it)" if item.behind else ""
            typer.echo(
                f"{verb} {item.entry.short_id} → {item.topic} for {item.entry.group}, "
                f"replay {item.replay_id[:8]}{tail}"
            )
    _print_held(plan.held)
    if dry_run:
        typer.echo(f"dry run: {len(plan.items)} to replay; --execute to do it", err=True)


def _print_discard_plan(plan: DiscardPlan, *, dry_run: bool) -> None:
    verb = "would discard" if dry_run else "discarding"
    for entry in plan.discarded:
        typer.echo(f"{verb} {entry.short_id} ({entry.reason}, from {entry.origin})")
    for item in plan.released:
        typer.echo(f"  then release {item.entry.short_id}, parked behind it, to {item.topic}")
    _print_held(plan.held)
    if dry_run:
        typer.echo(f"dry run: {len(plan.discarded)} to discard; --execute to do it", err=True)


def _print_held(held: tuple[Held, ...]) -> None:
    for item in held:
        typer.echo(f"not sent {item.entry.short_id}: {item.why}")
