"""Every event type, recipient kind and consent: delivered or refused, and exactly which fields.

The expectations are written out here from the domain tables, not derived from the policy, so
a change to the bundled policy that breaks the domain's rules fails this test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest

from schemas.events import (
    EVENT_CLASSES,
    ConsentRecipient,
    CustodyEnded,
    Envelope,
    ExecutionForm,
    JudgmentFinal,
    Need,
    ReleasePlanned,
    TransferPlanned,
    event_type_of,
)
from schemas.events.codes import CustodyOutcome
from schemas.ids import canonical_id
from schemas.recipients import RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import Router, leaf_paths

PERSON = {
    "person.identity_number",
    "person.identity_kind",
    "person.given_name",
    "person.family_name",
}
UNIT = {"unit.code", "unit.name"}
TRANSFER_NAV = {
    "transfer.date",
    "transfer.to_unit.code",
    "transfer.to_unit.name",
    "transfer.to_execution_form",
}
RELEASE_MUNICIPALITY = {
    "release.date",
    "release.kind",
    "release.residence_municipality",
}
POLICE_COMMON = (
    PERSON | UNIT | {"execution_form", "case.case_number", "case.reaction", "case.offences"}
)
TRANSFER_MUNICIPALITY = TRANSFER_NAV | {"transfer.residence_municipality"}
POLICE_BODY = {
    "sentence": {"start.start_date"},
    "transfer": TRANSFER_MUNICIPALITY | {"transfer.reason"},
    "release": {"release.date", "release.kind", "release.residence_municipality"},
    "escape": {"escape.time"},
}
CONSENTS: list[tuple[ConsentRecipient, ...]] = [
    (),
    (ConsentRecipient.KOMMUNE,),
    (ConsentRecipient.HELSE,),
    (ConsentRecipient.NAV, ConsentRecipient.KOMMUNE, ConsentRecipient.HELSE),
]


def _event(cls: type[Envelope], consent: tuple[ConsentRecipient, ...]) -> Any:
    family = event_type_of(cls).split(".")[2]
    data = sample_data(family, event_type_of(cls).split(".")[3])
    if family == "release":
        release = data.release.model_copy(
            update={
                "consent_recipients": consent,
                "needs": (Need.BOLIG, Need.HELSE) if consent else (),
                "residence_municipality": "0301",
            }
        )
        data = data.model_copy(update={"release": release})
    if family == "transfer":
        transfer = data.transfer.model_copy(
            update={
                "reason": "Behandlingstilbud",
                "to_execution_form": ExecutionForm.ELEKTRONISK_KONTROLL,
                "residence_municipality": "0301",
            }
        )
        data = data.model_copy(update={"transfer": transfer})
    if family == "custody":
        data = data.model_copy(update={"residence_municipality": "0301"})
        if event_type_of(cls).endswith(".ended.v1"):
            released = data.custody.model_copy(update={"outcome": CustodyOutcome.RELEASED})
            data = data.model_copy(update={"custody": released})
    return make_event(cls, data=data)


def _expected(kind: RecipientKind, event_type: str, consent: tuple[ConsentRecipient, ...]) -> Any:
    """(recipient, fields) when delivered, or the refusal reason."""
    family, status = event_type.split(".")[2:4]
    if family == "consent":
        return "no_rule"  # kept as the person's consent; shared with no one as such
    if kind is RecipientKind.PERSON:
        return _expected_person(family, status)
    if family in ("custody", "judgment"):
        return _expected_police_source(kind, family, status)
    if kind is RecipientKind.CORRECTIONAL:
        return "no_rule"  # its own events: the correctional service is the publisher
    if kind is RecipientKind.POLICE_REGISTER:
        return "police-register", POLICE_COMMON | POLICE_BODY[family]
    if kind is RecipientKind.NAV:
        if event_type.endswith("sentence.started.v1"):
            return "nav", PERSON | UNIT | {"execution_form", "start.start_date"}
        if family == "transfer" and status == "completed":
            return "nav", PERSON | UNIT | {"execution_form"} | TRANSFER_NAV
        if family == "release" and status == "completed":
            return "nav", PERSON | UNIT | {"execution_form", "release.date", "release.kind"}
        return "no_rule"
    if kind is RecipientKind.HEALTH and family == "transfer" and status != "cancelled":
        return "no_consent"  # a transfer event carries no consent: health may not have it
    if kind is RecipientKind.MUNICIPALITY and family == "transfer" and status != "cancelled":
        # To electronic monitoring, with where the person will live: that municipality is told.
        return "municipality.0301", PERSON | UNIT | TRANSFER_MUNICIPALITY
    if family != "release" or status == "cancelled":
        return "no_rule"
    if kind is RecipientKind.MUNICIPALITY:
        needs = {"release.needs"} if ConsentRecipient.KOMMUNE in consent else set()
        return "municipality.0301", PERSON | UNIT | RELEASE_MUNICIPALITY | needs
    if ConsentRecipient.HELSE not in consent:
        return "no_consent"
    return "health.sor-ost", PERSON | UNIT | RELEASE_MUNICIPALITY | {"release.needs"}


NOTICE = {f"notice.{part}" for part in ("language", "title", "what", "told", "basis", "rights")}
NOTICE |= {"notice.reference"}


def _expected_person(family: str, status: str) -> Any:
    """The person: planned releases and transfers, their cancellations, and the end of remand,
    always, with the notice in words beside the facts about themself."""
    if family == "release" and status in ("planned", "cancelled"):
        return "person", PERSON | UNIT | RELEASE_MUNICIPALITY | NOTICE
    if family == "transfer" and status in ("planned", "cancelled"):
        return "person", PERSON | UNIT | TRANSFER_MUNICIPALITY | NOTICE
    if family == "custody" and status == "ended":
        return "person", PERSON | {"custody.ended_at", "custody.outcome"} | NOTICE
    return "no_rule"


CUSTODY_POLICE = {
    "started": {"custody.decided_by", "custody.decided_at", "custody.until"}
    | {"custody.facility.code", "custody.facility.name"},
    "extended": {"custody.decided_by", "custody.decided_at", "custody.until"},
    "ended": {"custody.ended_at", "custody.outcome"},
}
JUDGMENT = {
    "judgment.court",
    "judgment.case_number",
    "judgment.pronounced_date",
    "judgment.final_date",
    "judgment.sanction.reaction",
    "judgment.sanction.frame_years",
    "judgment.sanction.minimum_years",
    "judgment.offences",
}


def _expected_police_source(kind: RecipientKind, family: str, status: str) -> Any:
    """Remand custody and final judgments: the police register in full; NAV in and out only."""
    if kind in (RecipientKind.POLICE_REGISTER, RecipientKind.CORRECTIONAL):
        # Both in full: one to register, the other to execute the judgment or place the person.
        if family == "judgment":
            return kind.value, PERSON | JUDGMENT
        return kind.value, PERSON | {"police_district", "case_reference"} | CUSTODY_POLICE[status]
    if kind is RecipientKind.NAV and family == "custody":
        if status == "started":
            return "nav", PERSON | {
                "custody.decided_at",
                "custody.facility.code",
                "custody.facility.name",
            }
        if status == "ended":
            return "nav", PERSON | {"custody.ended_at", "custody.outcome"}
    if kind is RecipientKind.MUNICIPALITY and family == "custody" and status == "ended":
        # Released from remand: the municipality the person lives in is told.
        return "municipality.0301", PERSON | {
            "residence_municipality",
            "custody.ended_at",
            "custody.outcome",
        }
    return "no_rule"


CASES = [
    pytest.param(
        cls,
        kind,
        consent,
        id=f"{event_type_of(cls).split('.', 2)[2]}-{kind.value}-{'+'.join(consent) or 'none'}",
    )
    for cls, kind, consent in itertools.product(EVENT_CLASSES, RecipientKind, CONSENTS)
    if "release" in event_type_of(cls) or consent == ()
]


@pytest.mark.parametrize(("cls", "kind", "consent"), CASES)
def test_each_recipient_gets_exactly_what_the_domain_allows(
    cls: type[Envelope], kind: RecipientKind, consent: tuple[ConsentRecipient, ...]
) -> None:
    routed = Router().route(_event(cls, consent), kind)
    expected = _expected(kind, event_type_of(cls), consent)
    (note,) = routed.notes
    if isinstance(expected, str):
        assert not note.delivered
        assert note.reason == expected
        assert routed.messages() == []
        return
    recipient, fields = expected
    (message,) = routed.messages()
    assert note.delivered
    assert note.recipient == recipient == message["recipient"]
    assert leaf_paths(message["data"]) == fields
    assert message["rule"] == note.rule_id
    assert message["legalbasis"] == note.legal_basis


def test_a_release_far_ahead_raises_no_alert_and_a_late_one_does() -> None:
    router = Router()
    soon, later = dt.date(2026, 6, 5), dt.date(2026, 9, 1)
    for day, alerts in ((later, 0), (soon, 1)):
        event = _event(ReleasePlanned, (ConsentRecipient.KOMMUNE,))
        release = event.data.release.model_copy(update={"date": day})
        # Two source events, two ids: one event seen again decides what it decided before.
        own_id = canonical_id(event.source, f"KODA-RELEASE-{day}")
        event = event.model_copy(
            update={"id": own_id, "data": event.data.model_copy(update={"release": release})}
        )
        routed = router.route(event, RecipientKind.MUNICIPALITY)
        assert sum(r.topic == "hub.alerts.v1" for r in routed.outputs) == alerts


def test_nav_is_told_when_remand_custody_ends_in_release() -> None:
    data = sample_data("custody", "ended")
    released = data.custody.model_copy(update={"outcome": CustodyOutcome.RELEASED})
    event = make_event(CustodyEnded, data=data.model_copy(update={"custody": released}))
    routed = Router().route(event, RecipientKind.NAV)
    (message,) = routed.messages()
    assert message["rule"] == "nav.custody-released"
    assert leaf_paths(message["data"]) == PERSON | {"custody.ended_at", "custody.outcome"}


def _transfer_to(form: ExecutionForm, municipality: str | None) -> Any:
    data = sample_data("transfer", "planned")
    transfer = data.transfer.model_copy(
        update={"to_execution_form": form, "residence_municipality": municipality}
    )
    return make_event(TransferPlanned, data=data.model_copy(update={"transfer": transfer}))


@pytest.mark.parametrize(
    "form",
    [ExecutionForm.ELEKTRONISK_KONTROLL, ExecutionForm.INSTITUSJON, ExecutionForm.OVERGANGSBOLIG],
)
def test_a_transfer_out_of_prison_reaches_the_municipality_with_a_receipt_due(
    form: ExecutionForm,
) -> None:
    routed = Router().route(_transfer_to(form, "4204"), RecipientKind.MUNICIPALITY)
    (message,) = routed.messages()
    assert message["recipient"] == "municipality.4204"
    assert message["data"]["transfer"]["to_execution_form"] == form.value
    (entry,) = [r for r in routed.outputs if r.topic == "hub.deliveries.v1"]
    assert json.loads(entry.value)["receipt"]["required"] is True


def test_a_transfer_from_prison_to_prison_does_not_concern_the_municipality() -> None:
    routed = Router().route(
        _transfer_to(ExecutionForm.FENGSEL_HOY, "4204"), RecipientKind.MUNICIPALITY
    )
    (note,) = routed.notes
    assert (note.delivered, note.reason) == (False, "other_execution_form")


def test_a_transfer_with_no_residence_municipality_is_refused_as_such() -> None:
    routed = Router().route(
        _transfer_to(ExecutionForm.ELEKTRONISK_KONTROLL, None), RecipientKind.MUNICIPALITY
    )
    (note,) = routed.notes
    assert (note.delivered, note.reason) == (False, "no_residence_municipality")


def test_custody_ending_in_sentence_execution_does_not_concern_the_municipality() -> None:
    data = sample_data("custody", "ended").model_copy(update={"residence_municipality": "0301"})
    routed = Router().route(make_event(CustodyEnded, data=data), RecipientKind.MUNICIPALITY)
    (note,) = routed.notes
    assert (note.delivered, note.reason) == (False, "other_custody_outcome")


def test_a_final_judgment_reaches_the_correctional_service_with_a_receipt_due() -> None:
    routed = Router().route(make_event(JudgmentFinal), RecipientKind.CORRECTIONAL)
    (message,) = routed.messages()
    assert message["recipient"] == "correctional"
    assert message["dataschema"] == "urn:no:justishub:schema:recipient.correctional.v1"
    assert message["data"]["judgment"]["sanction"]["reaction"] == "FORVARING"
    (record,) = [r for r in routed.outputs if r.header("hub-recipient")]
    assert record.topic == "out.correctional.v1"
    (entry,) = [r for r in routed.outputs if r.topic == "hub.deliveries.v1"]
    assert json.loads(entry.value)["receipt"]["required"] is True
