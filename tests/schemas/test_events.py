from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.events import (
    EVENT_CLASSES,
    CanonicalEvent,
    ConsentRecipient,
    Envelope,
    IdentityKind,
    Need,
    Person,
    Release,
    ReleaseKind,
    ReleasePlanned,
    dataschema_for,
    event_type_of,
)
from schemas.ids import canonical_id
from tests.events import make_event, sample_data
from tests.identities import SYNTHETIC_DNR, SYNTHETIC_FNR

EXPECTED_TYPES = {
    "no.kriminalomsorgen.sentence.started.v1",
    "no.kriminalomsorgen.transfer.planned.v1",
    "no.kriminalomsorgen.transfer.completed.v1",
    "no.kriminalomsorgen.transfer.cancelled.v1",
    "no.kriminalomsorgen.release.planned.v1",
    "no.kriminalomsorgen.release.completed.v1",
    "no.kriminalomsorgen.release.cancelled.v1",
    "no.kriminalomsorgen.escape.reported.v1",
    "no.politiet.custody.started.v1",
    "no.politiet.custody.extended.v1",
    "no.politiet.custody.ended.v1",
    "no.domstol.judgment.final.v1",
    "no.kriminalomsorgen.consent.given.v1",
    "no.kriminalomsorgen.consent.withdrawn.v1",
}


def test_the_published_type_names() -> None:
    assert {event_type_of(cls) for cls in EVENT_CLASSES} == EXPECTED_TYPES


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_each_type_names_its_own_schema(cls: type[Envelope]) -> None:
    event = make_event(cls)
    assert event.dataschema == dataschema_for(event.type)
    assert (event.specversion, event.datacontenttype) == ("1.0", "application/json")


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_the_union_picks_the_class_by_type(cls: type[Envelope]) -> None:
    event = make_event(cls)
    decoded = TypeAdapter(CanonicalEvent).validate_json(event.model_dump_json())
    assert type(decoded) is cls
    assert decoded == event


def test_events_are_frozen() -> None:
    event = make_event(ReleasePlanned)
    with pytest.raises(ValidationError, match="frozen"):
        event.subject = "pk-other-subject"
    with pytest.raises(ValidationError, match="frozen"):
        event.data.person.given_name = "Kari"


def test_unknown_attributes_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        make_event(ReleasePlanned, status="PLANLAGT")


def test_a_type_cannot_be_put_on_the_wrong_class() -> None:
    with pytest.raises(ValidationError):
        make_event(ReleasePlanned, type="no.kriminalomsorgen.release.completed.v1")
    with pytest.raises(ValidationError):
        make_event(ReleasePlanned, data=sample_data("transfer"))


def test_time_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        make_event(ReleasePlanned, time=dt.datetime(2026, 11, 20, 9, 15))


def test_subject_is_never_an_identity_number() -> None:
    with pytest.raises(ValidationError, match="pseudonymous"):
        make_event(ReleasePlanned, subject=SYNTHETIC_FNR)


def test_an_event_cannot_replace_itself() -> None:
    own_id = make_event(ReleasePlanned).id
    with pytest.raises(ValidationError, match="replace itself"):
        make_event(ReleasePlanned, replaces=own_id)
    other = canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-0")
    assert make_event(ReleasePlanned, replaces=other).replaces == other


@pytest.mark.parametrize("bad_id", ["KODA-1", "EA6D1C83-27C4-5770-8F4D-B1A0DD182AD7", ""])
def test_ids_are_lowercase_uuids(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        make_event(ReleasePlanned, id=bad_id)


def person(**overrides: object) -> Person:
    fields = {
        "identity_number": SYNTHETIC_FNR,
        "identity_kind": IdentityKind.FNR,
        "given_name": "Kari",
        "family_name": "Nordmann",
    }
    return Person.model_validate({**fields, **overrides})


@pytest.mark.parametrize(
    "name", ["Åse", "Ødegård", "José", "Müller-Ærø", "O\u2019Brien", "D'Angelo", "Anne Lise", "Zoë"]
)
def test_names_of_any_unicode_letters(name: str) -> None:
    assert person(given_name=name).given_name == name


def test_decomposed_accents_are_letters_too() -> None:
    assert person(family_name="Jose\u0301").family_name == "Jose\u0301"


@pytest.mark.parametrize("name", ["", " Kari", "Kari ", "K4ri", "Kari;", "-Kari", "x" * 101])
def test_names_that_are_not_names(name: str) -> None:
    with pytest.raises(ValidationError):
        person(given_name=name)


def test_the_identity_number_is_checked() -> None:
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    with pytest.raises(ValidationError, match="second check digit") as caught:
        person(identity_number=wrong)
    assert wrong not in str(caught.value.errors(include_input=False))


def test_the_kind_must_match_the_number() -> None:
    dnr = person(identity_number=SYNTHETIC_DNR, identity_kind=IdentityKind.DNR)
    assert dnr.identity_kind is IdentityKind.DNR
    with pytest.raises(ValidationError, match="identity_kind does not match"):
        person(identity_number=SYNTHETIC_DNR)


def test_printing_an_event_does_not_show_who_it_is_about() -> None:
    shown = repr(make_event(ReleasePlanned))
    for secret in (SYNTHETIC_FNR, "Åse", "Ødegård"):
        assert secret not in shown


def test_consent_and_needs_are_sets_in_source_order() -> None:
    release = Release(
        date=dt.date(2026, 12, 14),
        kind=ReleaseKind.ENDT_STRAFF,
        consent_recipients=(ConsentRecipient.HELSE, ConsentRecipient.KOMMUNE),
    )
    assert release.consent_recipients == ("HELSE", "KOMMUNE")
    assert release.needs == ()
    with pytest.raises(ValidationError, match="repeats"):
        Release(
            date=dt.date(2026, 12, 14), kind=ReleaseKind.ENDT_STRAFF, needs=(Need.RUS, Need.RUS)
        )


@pytest.mark.parametrize("municipality", ["0012", "420", "42044"])
def test_residence_municipality_is_a_municipality_number(municipality: str) -> None:
    with pytest.raises(ValidationError, match="residence_municipality"):
        Release(
            date=dt.date(2026, 12, 14),
            kind=ReleaseKind.ENDT_STRAFF,
            residence_municipality=municipality,
        )


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_probation_days_are_bounded(days: int) -> None:
    with pytest.raises(ValidationError, match="probation_days"):
        Release(date=dt.date(2026, 12, 14), kind=ReleaseKind.ENDT_STRAFF, probation_days=days)
