"""What the dry-run pages show for a person held back behind a failed input: the blocker and
the inputs parked behind it go back together, in order; a parked input alone is held."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from starlette.requests import Request

from hub.operations.actions import plan_discard, plan_replay
from hub.operations.entries import DeadLetter
from hub.pipeline import headers as h
from hub.pipeline.records import Position
from hub.web.console.gate import SESSION_SCOPE_KEY
from hub.web.console.render import page
from hub.web.console.sessions import Session

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def entry(offset: int, *, reason: str, behind: str | None = None) -> DeadLetter:
    return DeadLetter(
        id=str(uuid.uuid4()),
        position=Position("hub.dlq.v1", 0, offset),
        stage="route_municipality",
        group="justishub.route.municipality",
        reason=reason,
        reason_text="municipality number 5001 is not in the register",
        error_class="ContractViolation",
        attempts=1,
        time=NOW,
        origin=Position("hub.events.v1", 2, 40 + offset),
        key=b"pk-0123456789abcdef0123456789abcdef",
        value=b"{}",
        headers=(),
        parked_behind=behind,
        source="hub",
    )


def render(name: str, context: dict[str, object]) -> str:
    session = Session("kari", "token", started=0.0, last_seen=0.0)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/dlq/replay",
        "query_string": b"",
        "headers": [],
        SESSION_SCOPE_KEY: session,
    }
    return bytes(page(Request(scope), name, context).body).decode()


BLOCKER = entry(0, reason="unknown_municipality")
FIRST = entry(1, reason="parked", behind=BLOCKER.id)
SECOND = entry(2, reason="parked", behind=BLOCKER.id)
EVERYTHING = [BLOCKER, FIRST, SECOND]


def test_a_blocker_goes_back_with_the_inputs_parked_behind_it() -> None:
    plan = plan_replay(EVERYTHING, [BLOCKER], operator="kari", now=NOW)
    html = render("replay_plan.html", {"plan": plan, "changed": False})
    assert "Would put <strong>3</strong> inputs back" in html
    assert html.count(f"parked behind <code>{BLOCKER.id[:8]}</code>, goes back with it") == 2
    confirmed = [e.id for e in EVERYTHING]
    form = html[html.index('action="/dlq/replay/confirm"') :]
    assert [
        line.split('value="')[1][:36] for line in form.splitlines() if 'name="entry"' in line
    ] == confirmed


def test_a_parked_input_alone_is_held_and_says_behind_what() -> None:
    plan = plan_replay(EVERYTHING, [SECOND], operator="kari", now=NOW)
    html = render("replay_plan.html", {"plan": plan, "changed": False})
    assert "Nothing to replay." in html
    assert f"parked behind {BLOCKER.id[:8]}: replay that one" in html
    assert "/dlq/replay/confirm" not in html, "nothing to confirm"


def test_discarding_a_blocker_releases_the_parked_ones() -> None:
    plan = plan_discard(EVERYTHING, [BLOCKER], operator="kari", now=NOW)
    html = render("discard_plan.html", {"plan": plan, "why": "sent again", "changed": False})
    assert "Would mark <strong>1</strong> entry resolved" in html
    assert html.count('name="released"') == 2
    assert f"<code>{FIRST.short_id}</code> back to <code>hub.events.v1</code>" in html


def test_an_entry_cut_short_is_held_for_its_source_to_send_again() -> None:
    cut = dataclasses.replace(
        entry(3, reason="too_large"), dlq_headers={h.DLQ_CUT: "output_rejected: too large"}
    )
    plan = plan_replay([cut], [cut], operator="kari", now=NOW)
    assert plan.runs == ()
    ((held, why),) = [(item.entry, item.why) for item in plan.held]
    assert held is cut
    assert "source must send it again" in why
