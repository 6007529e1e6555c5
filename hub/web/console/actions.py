"""What operators do from the console: reveal an entry, replay and discard entries. Each calls
the same `hub.operations` functions as `hub dlq`, as the logged-in operator.

Replay and discard go in two steps. The first is the dry run: the plan, shown, with a form that
carries the ids it would act on. The confirm step plans again from exactly those ids and acts
only if the new plan is the same; if anything changed in between (an entry resolved by someone
else, a person's later input parked behind one), it shows the new plan to confirm instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.operations.actions import (
    DiscardPlan,
    ReplayPlan,
    discard,
    plan_discard,
    plan_replay,
    replay,
    reveal,
)
from hub.operations.entries import (
    DeadLetter,
    Selection,
    load_dead_letters,
    parse_since,
    resolve_ids,
    select,
)
from hub.web.console.app import Console
from hub.web.console.pages import entry_context, one_entry
from hub.web.console.render import ConsoleHandler, bound, form_of, page, session_of
from schemas.errors import PermanentError, Reason

__all__ = ["routes"]

_MAX_WHY: Final = 500
_MAX_IDS: Final = 10_000


def routes(console: Console) -> list[Route]:
    def post(path: str, handler: ConsoleHandler, name: str) -> Route:
        return Route(path, bound(console, handler), methods=["POST"], name=name)

    return [
        post("/dlq/{entry_id}/reveal", reveal_entry, "reveal"),
        post("/dlq/replay", replay_plan, "replay_plan"),
        post("/dlq/replay/confirm", replay_confirm, "replay_confirm"),
        post("/dlq/discard", discard_plan, "discard_plan"),
        post("/dlq/discard/confirm", discard_confirm, "discard_confirm"),
    ]


async def reveal_entry(console: Console, request: Request) -> Response:
    form = form_of(request)
    entries = await load_dead_letters(console.settings)
    entry = one_entry(entries, request.path_params["entry_id"])
    context = entry_context(entries, entry)
    why = _why(form)
    if not why:
        context["error"] = "Say why you need to see it: the reason goes on the audit trail."
        return page(request, "entry.html", context, status=400)
    operator = session_of(request).operator
    settings, signer = console.settings, console.signer
    context["clear"] = await reveal(
        entry, settings=settings, operator=operator, why=why, signer=signer
    )
    return page(request, "entry.html", context)


async def replay_plan(console: Console, request: Request) -> Response:
    form = form_of(request)
    entries = await load_dead_letters(console.settings)
    selection = _selection(entries, form)
    plan = _plan_replay(entries, select(entries, selection), session_of(request).operator)
    return page(request, "replay_plan.html", {"plan": plan, "changed": False})


async def replay_confirm(console: Console, request: Request) -> Response:
    form = form_of(request)
    planned = _ids(form, "entry")
    entries = await load_dead_letters(console.settings)
    operator = session_of(request).operator
    chosen = select(entries, Selection(ids=resolve_ids(entries, planned)))
    plan = _plan_replay(entries, chosen, operator)
    if [item.entry.id for item in plan.items] != planned:
        return page(request, "replay_plan.html", {"plan": plan, "changed": True}, status=409)
    sent = await replay(console.settings, plan, operator=operator, signer=console.signer)
    return page(request, "replayed.html", {"sent": sent, "operator": operator})


async def discard_plan(console: Console, request: Request) -> Response:
    form = form_of(request)
    entries = await load_dead_letters(console.settings)
    chosen = select(entries, Selection(ids=resolve_ids(entries, _ids(form, "entry"))))
    plan = _plan_discard(entries, chosen, session_of(request).operator)
    why = _why(form)
    if not why:
        entry = chosen[0]
        context = entry_context(entries, entry)
        context["error"] = "Say why it need not be sent: the reason goes on the audit trail."
        return page(request, "entry.html", context, status=400)
    return page(request, "discard_plan.html", {"plan": plan, "why": why, "changed": False})


async def discard_confirm(console: Console, request: Request) -> Response:
    form = form_of(request)
    planned, released, why = (
        _ids(form, "entry"),
        _ids(form, "released", allow_none=True),
        _why(form),
    )
    if not why:
        raise PermanentError("a discard needs a reason", reason=Reason.NO_REASON)
    entries = await load_dead_letters(console.settings)
    operator = session_of(request).operator
    chosen = select(entries, Selection(ids=resolve_ids(entries, planned)))
    plan = _plan_discard(entries, chosen, operator)
    now_released = [item.entry.id for item in plan.released]
    if [e.id for e in plan.discarded] != planned or now_released != released:
        context = {"plan": plan, "why": why, "changed": True}
        return page(request, "discard_plan.html", context, status=409)
    await discard(console.settings, plan, operator=operator, why=why, signer=console.signer)
    return page(request, "discarded.html", {"plan": plan, "operator": operator, "why": why})


def _plan_replay(entries: list[DeadLetter], chosen: list[DeadLetter], operator: str) -> ReplayPlan:
    return plan_replay(entries, chosen, operator=operator, now=datetime.now(UTC))


def _plan_discard(
    entries: list[DeadLetter], chosen: list[DeadLetter], operator: str
) -> DiscardPlan:
    return plan_discard(entries, chosen, operator=operator, now=datetime.now(UTC))


def _selection(entries: list[DeadLetter], form: FormData) -> Selection:
    """The entries a replay form names: ids, or the dead-letter list's filters."""
    try:
        since = parse_since(_text(form, "since"))
    except ValueError as exc:
        raise PermanentError(f"since {exc}", reason=Reason.SCHEMA_VIOLATION) from None
    selection = Selection(
        ids=resolve_ids(entries, _ids(form, "entry", allow_none=True)),
        stage=_text(form, "stage"),
        reason=_text(form, "reason"),
        since=since,
        source=_text(form, "source"),
    )
    if selection.empty:
        raise PermanentError(
            "say which entries: an entry, or a stage, reason, time or source",
            reason=Reason.SCHEMA_VIOLATION,
        )
    return selection


def _ids(form: FormData, name: str, *, allow_none: bool = False) -> list[str]:
    ids = [str(value)[:64] for value in form.getlist(name)][:_MAX_IDS]
    if not ids and not allow_none:
        raise PermanentError("the form names no entries", reason=Reason.SCHEMA_VIOLATION)
    return ids


def _text(form: FormData, name: str) -> str | None:
    return str(form.get(name, "")).strip()[:64] or None


def _why(form: FormData) -> str:
    return str(form.get("why", "")).strip()[:_MAX_WHY]
