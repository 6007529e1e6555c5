"""A plan's alerts are resolved when a later event closes it, on every pass of that event: a
pass whose closing landed but whose resolutions were lost with its batch is followed by one that
resolves them again (the batch is consumed again: its offsets were never committed)."""

from __future__ import annotations

import datetime as dt
import json

from schemas.events import ConsentRecipient, ReleaseCancelled, ReleasePlanned
from schemas.ids import canonical_id
from schemas.recipients import RecipientKind
from tests.events import make_event
from tests.recipients.support import Routed, Router

# Four days before the sample's release on 2026-12-14: its notice is late.
_LATE = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)


def _planned() -> ReleasePlanned:
    """A planned release to Oslo, with consent for the municipality."""
    event = make_event(ReleasePlanned)
    release = event.data.release.model_copy(
        update={"residence_municipality": "0301", "consent_recipients": (ConsentRecipient.KOMMUNE,)}
    )
    planned: ReleasePlanned = event.model_copy(
        update={"data": event.data.model_copy(update={"release": release})}
    )
    return planned


def _alerts(routed: Routed) -> list[tuple[str, str, str]]:
    """(kind, state, message id) of every alert a step wrote."""
    found = [json.loads(r.value) for r in routed.outputs if r.topic.endswith("alerts.v1")]
    return [(a["kind"], a["state"], a["messageid"]) for a in found]


def test_a_cancellation_consumed_again_resolves_again_what_its_plan_had_raised() -> None:
    router = Router(now=_LATE)
    planned = _planned()
    cancelled = make_event(
        ReleaseCancelled,
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-3"),
        sourceeventid="KODA-TEST-3",
    )
    notice = router.route(planned, RecipientKind.MUNICIPALITY)
    (notice_id,) = [m["id"] for m in notice.messages()]
    assert _alerts(notice) == [("late_notice", "raised", notice_id)]

    closing = router.route(cancelled, RecipientKind.MUNICIPALITY)
    # The closing landed (the index holds it); the resolution is lost with the batch.
    again = router.route(cancelled, RecipientKind.MUNICIPALITY)

    assert _alerts(closing) == [("late_notice", "resolved", notice_id)]
    assert _alerts(again) == _alerts(closing)


def test_a_plan_closed_by_another_event_is_not_resolved_again_by_a_later_one() -> None:
    router = Router(now=_LATE)
    planned = _planned()
    cancelled = make_event(
        ReleaseCancelled,
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-3"),
        sourceeventid="KODA-TEST-3",
    )
    # The plan, corrected after it was cancelled: the cancellation stays what closed it.
    correction = planned.model_copy(
        update={
            "id": canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-4"),
            "sourceeventid": "KODA-TEST-4",
            "replaces": planned.id,
        }
    )
    notice = router.route(planned, RecipientKind.MUNICIPALITY)
    (notice_id,) = [m["id"] for m in notice.messages()]
    router.route(cancelled, RecipientKind.MUNICIPALITY)

    later = router.route(correction, RecipientKind.MUNICIPALITY)

    assert ("late_notice", "resolved", notice_id) not in _alerts(later)
