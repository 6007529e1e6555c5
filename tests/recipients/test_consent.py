"""Consent as it stands now (issue 13, § 3): every decision asks the person's consent in force
when it decides, not the snapshot inside the event.

The core table: every (event kind, recipient kind) with consent given, absent, withdrawn and
expired, held in the consent store (the events themselves carry none). Then the stories the
issue names: a withdrawal between a planned and a completed release, consent given after a
refusal and the refused event routed again, and expiry passing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest

from hub.tools.policy import explain_lines
from schemas.events import (
    EVENT_CLASSES,
    Consent,
    ConsentGiven,
    ConsentRecipient,
    ConsentWithdrawn,
    Envelope,
    Need,
    ReleaseCompleted,
    ReleasePlanned,
    TransferPlanned,
    event_type_of,
)
from schemas.ids import canonical_id
from schemas.recipients import RecipientKind
from tests.events import OSLO, make_event, sample_data
from tests.recipients.support import NOW, Router, leaf_paths
from tests.recipients.test_routing_table import PERSON, TRANSFER_NAV, UNIT, _event, _expected

ALL = (ConsentRecipient.NAV, ConsentRecipient.KOMMUNE, ConsentRecipient.HELSE)
STATES = ("given", "absent", "withdrawn", "expired")
_SOURCE = "urn:no:kriminalomsorgen:koda"
_counter = itertools.count(1)


def consent_event(
    cls: type[ConsentGiven] | type[ConsentWithdrawn],
    recipients: tuple[ConsentRecipient, ...] = ALL,
    *,
    at: dt.datetime,
    until: dt.date | None = None,
) -> Any:
    number = f"KODA-CONSENT-{next(_counter)}"
    data = sample_data("consent").model_copy(
        update={"consent": Consent(recipients=recipients, source="BRIK", valid_until=until)}
    )
    return make_event(
        cls, id=canonical_id(_SOURCE, number), sourceeventid=number, time=at, data=data
    )


def with_state(router: Router, state: str) -> None:
    """Put the person's consent in `state` in the router's store, before the event at hand."""
    early, later = dt.datetime(2026, 1, 10, tzinfo=OSLO), dt.datetime(2026, 2, 10, tzinfo=OSLO)
    if state == "absent":
        return
    until = NOW.date() - dt.timedelta(days=1) if state == "expired" else None
    route_all(router, consent_event(ConsentGiven, at=early, until=until))
    if state == "withdrawn":
        route_all(router, consent_event(ConsentWithdrawn, at=later))


def route_all(router: Router, event: Envelope) -> dict[str, dict[str, Any]]:
    """Recipient → message, over every recipient kind."""
    messages = [m for kind in RecipientKind for m in router.route(event, kind).messages()]
    return {m["recipient"]: m for m in messages}


def unconsented(cls: type[Envelope]) -> Any:
    """The table's event of `cls`, with needs but no consent of its own."""
    event = _event(cls, ())
    if "release" in event_type_of(cls):
        release = event.data.release.model_copy(update={"needs": (Need.BOLIG, Need.HELSE)})
        event = event.model_copy(
            update={"data": event.data.model_copy(update={"release": release})}
        )
    return event


def expected(kind: RecipientKind, event_type: str, state: str) -> Any:
    family, status = event_type.split(".")[2:4]
    if state != "given":
        return _expected(kind, event_type, ())
    if kind is RecipientKind.HEALTH and family == "transfer" and status != "cancelled":
        # Consent from the store: health now hears of transfers, which carry none themselves.
        return "health.sor-ost", PERSON | UNIT | TRANSFER_NAV
    return _expected(kind, event_type, ALL)


CASES = [
    pytest.param(cls, kind, state, id=f"{event_type_of(cls).split('.', 2)[2]}-{kind.value}-{state}")
    for cls, kind, state in itertools.product(EVENT_CLASSES, RecipientKind, STATES)
    if "consent" not in event_type_of(cls)
]


@pytest.mark.parametrize(("cls", "kind", "state"), CASES)
def test_every_event_and_recipient_under_every_consent_state(
    cls: type[Envelope], kind: RecipientKind, state: str
) -> None:
    router = Router()
    with_state(router, state)
    routed = router.route(unconsented(cls), kind)
    want = expected(kind, event_type_of(cls), state)
    (note,) = routed.notes
    if isinstance(want, str):
        assert (note.delivered, note.reason) == (False, want)
        assert routed.messages() == []
        return
    recipient, fields = want
    (message,) = routed.messages()
    assert (note.delivered, message["recipient"]) == (True, recipient)
    assert leaf_paths(message["data"]) == fields


def _release(cls: type[Envelope], consent: tuple[ConsentRecipient, ...], day: int) -> Any:
    number = f"KODA-REL-{cls.__name__}"
    event = _event(cls, consent)
    return event.model_copy(
        update={
            "id": canonical_id(_SOURCE, number),
            "sourceeventid": number,
            "time": dt.datetime(2026, 5, day, tzinfo=OSLO),
        }
    )


def test_consent_withdrawn_between_a_planned_and_a_completed_release() -> None:
    router = Router()
    planned = route_all(router, _release(ReleasePlanned, ALL, 2))
    assert "data" in planned["health.sor-ost"]
    assert "needs" in planned["municipality.0301"]["data"]["release"]
    withdrawal = consent_event(
        ConsentWithdrawn,
        (ConsentRecipient.HELSE, ConsentRecipient.KOMMUNE),
        at=dt.datetime(2026, 5, 10, tzinfo=OSLO),
    )
    told = route_all(router, withdrawal)
    assert {r: m["action"] for r, m in told.items()} == {
        "health.sor-ost": "withdrawal",
        "municipality.0301": "withdrawal",
    }
    assert told["health.sor-ost"]["replacesmessageid"] == planned["health.sor-ost"]["id"]
    assert all("data" not in m for m in told.values())
    # The completed release carries no consent now: no needs anywhere, nothing to health.
    completed = route_all(router, _release(ReleaseCompleted, (), 20))
    assert "health.sor-ost" not in completed
    assert "needs" not in completed["municipality.0301"]["data"]["release"]
    assert completed["municipality.0301"]["rule"] == "municipality.release-completed"
    # A withdrawal consumed again sends what it sent, under the same ids and nothing more:
    # any part of its first pass's writes may have landed, the entries' change without the
    # message (the chaos suite's partial writes). The recipient has it once, by its id.
    again = route_all(router, withdrawal)
    assert {r: m["id"] for r, m in again.items()} == {r: m["id"] for r, m in told.items()}


def test_a_withdrawal_stands_against_a_replay_of_the_release_that_carried_consent() -> None:
    router = Router()
    planned = _release(ReleasePlanned, ALL, 2)
    route_all(router, planned)
    route_all(
        router,
        consent_event(ConsentWithdrawn, at=dt.datetime(2026, 5, 10, tzinfo=OSLO)),
    )
    # The release is older than the withdrawal: its consent does not come back with it.
    again = route_all(router, planned)
    assert "health.sor-ost" not in again
    assert "needs" not in again["municipality.0301"]["data"]["release"]


def test_a_withdrawal_consumed_again_leaves_what_later_consent_shared() -> None:
    """Found by the chaos suite: a batch consumed again after a crash routed a withdrawal a
    second time, after the releases that followed it had been shared under their own consent,
    and withdrew those. The first pass withdrew nothing; the second must do the same."""
    router = Router()
    route_all(router, consent_event(ConsentGiven, at=dt.datetime(2026, 4, 20, tzinfo=OSLO)))
    withdrawal = consent_event(ConsentWithdrawn, at=dt.datetime(2026, 4, 25, tzinfo=OSLO))
    assert route_all(router, withdrawal) == {}
    # A release registered after the withdrawal, carrying consent of its own.
    planned = route_all(router, _release(ReleasePlanned, ALL, 2))
    assert "needs" in planned["municipality.0301"]["data"]["release"]
    assert route_all(router, withdrawal) == {}


def test_consent_given_after_a_refusal_and_the_refused_event_replayed() -> None:
    """An operator replays the refused event: a new decision, with the consent as it stands."""
    router = Router()
    planned = _release(ReleasePlanned, (), 2)
    (note,) = router.route(planned, RecipientKind.HEALTH).notes
    assert (note.delivered, note.reason) == (False, "no_consent")
    route_all(
        router,
        consent_event(
            ConsentGiven, (ConsentRecipient.HELSE,), at=dt.datetime(2026, 5, 5, tzinfo=OSLO)
        ),
    )
    (message,) = router.route(planned, RecipientKind.HEALTH, replay=True).messages()
    assert (message["recipient"], message["action"]) == ("health.sor-ost", "notice")


def test_a_refusal_met_again_stays_a_refusal_though_consent_came_meanwhile() -> None:
    """Found by the chaos suite: an event the ingest stage published again after a crash was
    shared with health though its first copy had been refused, because a later event had given
    consent meanwhile; health then heard of it after what followed it. Consent registered
    after an event counts for it only in an operator's replay."""
    router = Router()
    planned = _release(ReleasePlanned, (), 2)
    (note,) = router.route(planned, RecipientKind.HEALTH).notes
    assert (note.delivered, note.reason) == (False, "no_consent")
    helse = (ConsentRecipient.HELSE,)
    route_all(router, consent_event(ConsentGiven, helse, at=dt.datetime(2026, 5, 5, tzinfo=OSLO)))
    again = router.route(planned, RecipientKind.HEALTH)
    assert again.messages() == []
    (message,) = router.route(planned, RecipientKind.HEALTH, replay=True).messages()
    assert message["action"] == "notice"


def test_a_withdrawal_read_first_counts_for_the_events_before_it() -> None:
    """A stage that lags behind decides an event after another stage has read a later
    withdrawal: nothing is shared that the person has taken back."""
    router = Router()
    helse = (ConsentRecipient.HELSE,)
    route_all(router, consent_event(ConsentGiven, helse, at=dt.datetime(2026, 4, 1, tzinfo=OSLO)))
    withdrawal = consent_event(ConsentWithdrawn, helse, at=dt.datetime(2026, 5, 10, tzinfo=OSLO))
    router.route(withdrawal, RecipientKind.NAV)
    planned = _release(ReleasePlanned, (), 2)  # registered before the withdrawal
    (note,) = router.route(planned, RecipientKind.HEALTH).notes
    assert (note.delivered, note.reason) == (False, "no_consent")


def test_expiry_passing() -> None:
    router = Router()
    route_all(
        router,
        consent_event(
            ConsentGiven,
            (ConsentRecipient.HELSE,),
            at=dt.datetime(2026, 1, 5, tzinfo=OSLO),
            until=dt.date(2026, 6, 30),
        ),
    )
    transfer = make_event(TransferPlanned)
    assert router.route(transfer, RecipientKind.HEALTH).messages() != []
    router.now = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    (note,) = router.route(transfer, RecipientKind.HEALTH).notes
    assert (note.delivered, note.reason) == (False, "no_consent")


def test_the_store_writes_the_consent_it_holds_to_the_consent_topic() -> None:
    router = Router()
    given = consent_event(ConsentGiven, at=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    outputs = router.route(given, RecipientKind.HEALTH).outputs
    (record,) = [r for r in outputs if r.topic == "hub.consent.v1"]
    assert record.key == given.subject.encode()
    state = json.loads(record.value)
    assert [g["recipient"] for g in state["grants"]] == ["HELSE", "KOMMUNE", "NAV"]
    # Another stage applying the same event finds nothing new to write.
    again = router.route(given, RecipientKind.MUNICIPALITY).outputs
    assert [r for r in again if r.topic == "hub.consent.v1"] == []


def test_explain_shows_the_decision_under_the_consent_in_force() -> None:
    router = Router()
    doc = _release(ReleasePlanned, (ConsentRecipient.HELSE,), 2).model_dump(mode="json")
    now_given = explain_lines(router.policy, doc, frozenset({"HELSE"}))
    now_withdrawn = explain_lines(router.policy, doc, frozenset())
    assert "consent in force now: HELSE" in now_given[1]
    assert any("health.release" in line and "applies" in line for line in now_given)
    assert any("health.release" in line and "no_consent" in line for line in now_withdrawn)
