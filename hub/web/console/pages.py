"""The console's pages: overview, dead-letter list and entry, a message's journey, disclosures
about a person, and the metrics. They read through the same functions as the CLI."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.operations.entries import (
    DeadLetter,
    Selection,
    Status,
    load_dead_letters,
    mask_payload,
    parked_counts,
    parse_since,
    resolve_ids,
    select,
    shown_headers,
    shown_key,
)
from hub.tools.policy import open_alerts
from hub.web.console.app import Console
from hub.web.console.render import ConsoleHandler, bound, form_of, page, session_of
from schemas.audit import AuditFacts, AuditStep, audit_id

__all__ = ["Filters", "one_entry", "routes"]

log = structlog.get_logger(__name__)

_NATIONAL_ID: Final = re.compile(r"^\d{11}$")
_MESSAGE_ID: Final = re.compile(r"^[\x21-\x7e]{1,128}$")
_STATUSES: Final = ("open", "replayed", "discarded", "all")


def routes(console: Console) -> list[Route]:
    def get(path: str, handler: ConsoleHandler, name: str) -> Route:
        return Route(path, bound(console, handler), methods=["GET"], name=name)

    return [
        get("/", overview, "overview"),
        get("/dlq", dead_letters, "dlq"),
        get("/dlq/{entry_id}", entry_page, "entry"),
        get("/trail", trail, "trail"),
        get("/disclosures", disclosures_form, "disclosures"),
        Route("/disclosures", bound(console, disclosures), methods=["POST"]),
        get("/metrics", metrics, "metrics"),
    ]


async def overview(console: Console, request: Request) -> Response:
    entries, alerts = await asyncio.gather(
        load_dead_letters(console.settings), open_alerts(console.settings)
    )
    unresolved = [e for e in entries if e.status is Status.OPEN]
    by_reason = Counter((e.stage, e.reason) for e in unresolved)
    behind = parked_counts(entries)
    blockers = sorted(
        ((e, behind[e.id]) for e in entries if e.id in behind), key=lambda pair: -pair[1]
    )
    context = {
        "throughput": console.metrics.throughput(),
        "by_reason": sorted(by_reason.items()),
        "open_total": len(unresolved),
        "blockers": blockers,
        "parked_total": sum(behind.values()),
        "alerts": alerts,
    }
    return page(request, "overview.html", context)


@dataclass(frozen=True)
class Filters:
    """The dead-letter list's filters, as the query string gives them."""

    stage: str = ""
    reason: str = ""
    since: str = ""
    source: str = ""
    status: str = "open"

    @classmethod
    def of(cls, request: Request) -> Filters:
        q = request.query_params
        status = q.get("status", "open")
        return cls(
            stage=q.get("stage", "").strip()[:64],
            reason=q.get("reason", "").strip()[:64],
            since=q.get("since", "").strip()[:40],
            source=q.get("source", "").strip()[:64],
            status=status if status in _STATUSES else "open",
        )

    def selection(self) -> Selection:
        return Selection(
            stage=self.stage or None,
            reason=self.reason or None,
            since=parse_since(self.since),
            source=self.source or None,
            include_resolved=self.status != "open",
        )

    def apply(self, entries: list[DeadLetter]) -> list[DeadLetter]:
        chosen = select(entries, self.selection())
        if self.status in ("open", "all"):
            return chosen
        return [e for e in chosen if e.status.value == self.status]


async def dead_letters(console: Console, request: Request) -> Response:
    entries = await load_dead_letters(console.settings)
    filters = Filters.of(request)
    try:
        chosen = filters.apply(entries)
    except ValueError as exc:
        context = {"filters": filters, "error": f"since {exc}", "entries": [], "total": 0}
        return page(request, "dlq.html", {**context, **_choices(entries)}, status=400)
    context = {
        "filters": filters,
        "error": None,
        "entries": chosen,
        "behind": parked_counts(entries),
        "total": len(entries),
        "replayable": not filters.selection().empty and filters.status == "open",
        **_choices(entries),
    }
    return page(request, "dlq.html", context)


def _choices(entries: list[DeadLetter]) -> dict[str, object]:
    """What the filters' lists offer: the values the entries have."""
    return {
        "stages": sorted({e.stage for e in entries}),
        "reasons": sorted({e.reason for e in entries}),
        "sources": sorted({e.source for e in entries}),
        "statuses": _STATUSES,
        "behind": parked_counts(entries),
    }


def one_entry(entries: list[DeadLetter], given: str) -> DeadLetter:
    """The entry `given` names (its id, or a unique prefix); `unknown_entry` otherwise."""
    (entry_id,) = resolve_ids(entries, [given[:64]])
    return next(e for e in entries if e.id == entry_id)


async def entry_page(console: Console, request: Request) -> Response:
    entries = await load_dead_letters(console.settings)
    entry = one_entry(entries, request.path_params["entry_id"])
    return page(request, "entry.html", entry_context(entries, entry))


def entry_context(entries: list[DeadLetter], entry: DeadLetter) -> dict[str, object]:
    return {
        "entry": entry,
        "behind": [e for e in entries if e.parked_behind == entry.id and e.status is Status.OPEN],
        "payload": mask_payload(entry.value),
        "clear": None,
        "error": None,
        "headers": shown_headers(entry.headers),
        "key": shown_key(entry.key),
    }


async def trail(console: Console, request: Request) -> Response:
    given = request.query_params.get("id", "").strip()
    if not given:
        return page(request, "trail.html", {"given": "", "rows": None, "error": None})
    if not _MESSAGE_ID.fullmatch(given):
        error = "An id is 1 to 128 printable characters without spaces."
        return page(request, "trail.html", {"given": "", "rows": None, "error": error}, 400)
    rows = await run_in_threadpool(console.projection.trail, given)
    return page(request, "trail.html", {"given": given, "rows": rows, "error": None})


async def disclosures_form(console: Console, request: Request) -> Response:
    return page(request, "disclosures.html", {"found": None, "error": None})


async def disclosures(console: Console, request: Request) -> Response:
    """Search by identity number, given in a POST body: it is never in a URL, a log line, the
    page sent back or the audit record, which names the person by their pseudonymous key."""
    form = form_of(request)
    number = str(form.get("number", "")).strip()
    try:
        since = _date(str(form.get("since", "")).strip())
    except ValueError:
        since = None
        number = ""
    if not _NATIONAL_ID.fullmatch(number):
        error = "Give an 11-digit identity number or D-number, and a date as YYYY-MM-DD."
        return page(request, "disclosures.html", {"found": None, "error": error}, 400)
    subject = console.person_key(number)
    del number
    operator = session_of(request).operator
    await console.audit([_shown(operator, subject)])
    start = datetime.combine(since, time(), UTC) if since else None
    found = await run_in_threadpool(console.projection.disclosures, subject, start)
    log.info("console.disclosures", operator=operator, subject=subject, found=len(found))
    context = {"found": found, "subject": subject, "since": since, "error": None}
    return page(request, "disclosures.html", context)


def _date(text: str) -> date | None:
    """The date in `text`, or None for nothing; `ValueError` for something that is no date."""
    return date.fromisoformat(text) if text else None


def _shown(operator: str, subject: str) -> AuditFacts:
    now = datetime.now(UTC).isoformat()
    return AuditFacts(
        id=audit_id(AuditStep.DISCLOSURES_SHOWN, operator, subject, now),
        step=AuditStep.DISCLOSURES_SHOWN,
        stage="console",
        operator=operator,
        subject=subject,
    )


async def metrics(console: Console, request: Request) -> Response:
    return Response(generate_latest(console.metrics.registry), media_type=CONTENT_TYPE_LATEST)
