from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters.koda
from adapters.context import TranslationContext
from adapters.koda import SOURCE, parse, to_canonical, translate
from adapters.koda.record import (
    KodaEnhet,
    KodaHendelse,
    KodaLoslatelse,
    KodaPerson,
    KodaStraffesak,
    KodaUnnvikelse,
)
from hubdev.demo import KODA_SAMPLES
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from schemas.codec import decode, encode
from schemas.errors import InputRejected, Reason
from schemas.events import (
    Case,
    ConsentGiven,
    ConsentRecipient,
    ConsentWithdrawn,
    EscapeReported,
    ExecutionForm,
    IdentityKind,
    Need,
    Person,
    Reaction,
    ReleaseCompleted,
    ReleaseKind,
    ReleasePlanned,
    SentenceStarted,
    TransferCompleted,
    Unit,
)
from schemas.ids import canonical_id

SAMPLES = KODA_SAMPLES
OSLO_WINTER = dt.timezone(dt.timedelta(hours=1))
OSLO_SUMMER = dt.timezone(dt.timedelta(hours=2))


def person_key(number: str) -> str:
    # Stands in for the hub's keyed HMAC: the adapter only calls it.
    return "pk-" + hashlib.sha256(number.encode()).hexdigest()[:32]


CTX = TranslationContext(person_key, True, 1024 * 1024)


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.xml").read_bytes()


def rejection(raw: bytes, ctx: TranslationContext = CTX) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        translate(raw, ctx)
    return caught.value


def test_the_public_surface() -> None:
    assert sorted(adapters.koda.__all__) == ["SOURCE", "parse", "to_canonical", "translate"]
    assert SOURCE == "urn:no:kriminalomsorgen:koda"


def test_parse_gives_the_source_record() -> None:
    record = parse(sample("08-release-planned"), CTX)
    assert record.hendelse_id == "KODA-2026-0000108"
    assert (record.hendelsestype, record.status) == ("LOSLATELSE", "PLANLAGT")
    assert record.registrert == "2026-08-14T12:00:00+02:00"
    assert record.erstatter is None
    assert record.person.nummertype == "Fodselsnummer"
    assert (record.person.fornavn, record.person.etternavn) == ("Sølvi", "O\u2019Brien")
    assert record.enhet == KodaEnhet("0301", "Oslo fengsel")
    assert record.body == KodaLoslatelse(
        "2026-10-02", "ENDT_STRAFF", None, "4204", ("KOMMUNE", "HELSE"), ("BOLIG", "RUS")
    )


def test_translate_is_parse_then_to_canonical() -> None:
    raw = sample("03-transfer-completed")
    assert translate(raw, CTX) == to_canonical(parse(raw, CTX), CTX)


def test_sentence_started_field_by_field() -> None:
    event = translate(sample("01-sentence-started"), CTX)
    assert isinstance(event, SentenceStarted)
    number = "14838821279"
    assert event.id == canonical_id(SOURCE, "KODA-2026-0000101")
    assert event.source == SOURCE
    assert event.type == "no.kriminalomsorgen.sentence.started.v1"
    assert event.time == dt.datetime(2026, 1, 12, 10, 2, tzinfo=OSLO_WINTER)
    assert event.subject == person_key(number)
    assert event.correlationid == event.id
    assert event.replaces is None
    assert event.sourceeventid == "KODA-2026-0000101"
    assert event.data.person == Person(
        identity_number=number,
        identity_kind=IdentityKind.FNR,
        given_name="Åse",
        family_name="Ødegård",
    )
    assert event.data.case == Case(
        case_number="26-014512MED-TOSL/05",
        reaction=Reaction.UBETINGET_FENGSEL,
        offences=("Straffeloven § 321",),
    )
    assert event.data.unit == Unit(code="1001", name="Agder fengsel, avdeling Froland")
    assert event.data.execution_form is ExecutionForm.FENGSEL_LAV
    assert event.data.start.start_date == dt.date(2026, 1, 12)
    assert event.data.start.expected_release_date == dt.date(2026, 12, 14)


def test_transfer_field_by_field() -> None:
    event = translate(sample("03-transfer-completed"), CTX)
    assert isinstance(event, TransferCompleted)
    assert event.type == "no.kriminalomsorgen.transfer.completed.v1"
    person = event.data.person
    assert (person.identity_kind, person.given_name, person.family_name) == (
        IdentityKind.DNR,
        "José",
        "Müller-Ærø",
    )
    assert event.data.case.offences == ("Straffeloven § 231", "Straffeloven § 322")
    assert event.data.unit == Unit(code="3101", name="Halden fengsel")
    assert event.data.execution_form is ExecutionForm.FENGSEL_HOY
    transfer = event.data.transfer
    assert transfer.date == dt.date(2026, 6, 15)
    assert transfer.to_unit == Unit(code="5099", name="Kriminalomsorgen Trøndelag friomsorgskontor")
    assert transfer.to_execution_form is ExecutionForm.ELEKTRONISK_KONTROLL
    assert transfer.reason is not None
    assert transfer.reason.startswith("Soningsprogresjon")


def test_a_transfer_may_name_where_the_person_will_live() -> None:
    plain = sample("03-transfer-completed")
    assert translate(plain, CTX).data.transfer.residence_municipality is None
    with_place = plain.replace(
        b"</Overforing>", b"<Oppholdskommune>5001</Oppholdskommune></Overforing>"
    )
    assert with_place != plain
    event = translate(with_place, CTX)
    assert event.data.transfer.residence_municipality == "5001"
    assert parse(with_place, CTX).body.oppholdskommune == "5001"  # type: ignore[union-attr]  # a transfer body
    county_00 = with_place.replace(b">5001<", b">0012<")
    assert rejection(county_00).reason is Reason.INVALID_MUNICIPALITY_NUMBER


def test_release_field_by_field() -> None:
    event = translate(sample("11-release-completed"), CTX)
    assert isinstance(event, ReleaseCompleted)
    assert event.time == dt.datetime(2027, 3, 1, 9, 0, tzinfo=OSLO_WINTER)
    release = event.data.release
    assert release.date == dt.date(2027, 3, 1)
    assert release.kind is ReleaseKind.PROVELOSLATELSE
    assert release.probation_days == 365
    assert release.residence_municipality == "5001"
    assert release.consent_recipients == (ConsentRecipient.KOMMUNE, ConsentRecipient.HELSE)
    assert release.needs == (Need.ARBEID, Need.HELSE)


def test_release_without_consent() -> None:
    event = translate(sample("05-release-planned"), CTX)
    assert isinstance(event, ReleasePlanned)
    release = event.data.release
    assert (release.consent_recipients, release.needs, release.probation_days) == ((), (), None)
    assert release.residence_municipality == "0301"


def test_escape_field_by_field() -> None:
    event = translate(sample("10-escape-reported"), CTX)
    assert isinstance(event, EscapeReported)
    assert event.data.case.reaction is Reaction.VARETEKT
    assert event.data.escape.time == dt.datetime(2026, 7, 3, 21, 30, tzinfo=OSLO_SUMMER)
    assert event.data.escape.description == "Uteble etter fremstilling i retten"


def test_a_correction_names_the_event_it_replaces() -> None:
    original = translate(sample("05-release-planned"), CTX)
    correction = translate(sample("06-release-planned-correction"), CTX)
    assert isinstance(correction, ReleasePlanned)
    assert correction.replaces == original.id
    assert correction.replaces == canonical_id(SOURCE, "KODA-2026-0000105")
    assert correction.id != original.id


def test_a_correction_cannot_replace_itself() -> None:
    raw = sample("06-release-planned-correction").replace(b"0000105</Erst", b"0000106</Erst")
    error = rejection(raw)
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert "Erstatter" in error.detail


def test_the_correlation_id_is_passed_on_or_the_event_id() -> None:
    raw = sample("07-release-completed")
    assert translate(raw, CTX).correlationid == canonical_id(SOURCE, "KODA-2026-0000107")
    with_flow = dataclasses.replace(CTX, correlation_id="flow-42")
    assert translate(raw, with_flow).correlationid == "flow-42"


def test_the_person_key_gets_the_identity_number_and_becomes_the_subject() -> None:
    seen: list[str] = []

    def key(number: str) -> str:
        seen.append(number)
        return "pk-fixed-key-for-test"

    event = translate(sample("02-transfer-planned"), dataclasses.replace(CTX, person_key=key))
    assert seen == ["63817933442"]
    assert event.subject == "pk-fixed-key-for-test"


def test_unicode_names_survive_the_whole_way() -> None:
    for name, first, family in [
        ("01-sentence-started", "Åse", "Ødegård"),
        ("02-transfer-planned", "José", "Müller-Ærø"),
        ("04-transfer-cancelled", "Sølvi", "O\u2019Brien"),
        ("10-escape-reported", "Øystein", "Sæther"),
    ]:
        event = decode(encode(translate(sample(name), CTX)))
        assert (event.data.person.given_name, event.data.person.family_name) == (first, family)


def test_the_same_document_always_gives_the_same_bytes() -> None:
    for path in sorted(SAMPLES.glob("*.xml")):
        raw = path.read_bytes()
        assert encode(translate(raw, CTX)) == encode(translate(bytes(raw), CTX))


def test_a_resend_gets_the_same_canonical_id() -> None:
    raw = sample("08-release-planned")
    resent = raw.replace(b"2026-08-14T12:00:00+02:00", b"2026-08-15T07:00:00+02:00")
    assert translate(resent, CTX).id == translate(raw, CTX).id


# Contract rules the XSD cannot express, one sample each.


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("01-sentence-started", b"IVERKSETTELSE</", b"LOSLATELSE</"),
        ("03-transfer-completed", b"OVERFORING</", b"UNNVIKELSE</"),
        ("08-release-planned", b"LOSLATELSE</", b"OVERFORING</"),
        ("10-escape-reported", b"UNNVIKELSE</", b"IVERKSETTELSE</"),
    ],
)
def test_body_must_match_the_event_type(name: str, old: bytes, new: bytes) -> None:
    assert rejection(sample(name).replace(old, new, 1)).reason is Reason.BODY_MISMATCH


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("01-sentence-started", b"PLANLAGT"),
        ("01-sentence-started", b"KANSELLERT"),
        ("10-escape-reported", b"PLANLAGT"),
        ("10-escape-reported", b"KANSELLERT"),
    ],
)
def test_starts_and_escapes_are_only_reported_done(name: str, status: bytes) -> None:
    raw = sample(name).replace(b"GJENNOMFORT</Status>", status + b"</Status>")
    error = rejection(raw)
    assert error.reason is Reason.STATUS_NOT_ALLOWED
    assert status.decode() in error.detail


def _with_number(name: str, number: str) -> bytes:
    record = parse(sample(name), CTX)
    person = dataclasses.replace(record.person, identitetsnummer=number)
    return render(dataclasses.replace(record, person=person))


@pytest.mark.parametrize(
    ("name", "number", "says"),
    [
        ("01-sentence-started", "14838821278", "second check digit"),
        ("01-sentence-started", "14838821289", "first check digit"),
        ("01-sentence-started", "31048821279", "not a calendar date"),
        ("01-sentence-started", "63817933442", "Fodselsnummer holds a DNR"),
        ("02-transfer-planned", "14838821279", "DNummer holds a FNR"),
    ],
)
def test_identity_numbers_are_checked(name: str, number: str, says: str) -> None:
    error = rejection(_with_number(name, number))
    assert error.reason is Reason.INVALID_IDENTITY_NUMBER
    assert says in error.detail
    assert number not in str(error)


def test_synthetic_identities_can_be_refused() -> None:
    production = dataclasses.replace(CTX, allow_test_identities=False)
    for path in sorted(SAMPLES.glob("*.xml")):
        assert rejection(path.read_bytes(), production).reason is Reason.TEST_IDENTITY_NOT_ALLOWED


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("01-sentence-started", b"2026-01-12T10:02:00", b"2026-02-30T10:02:00"),
        ("01-sentence-started", b"2026-01-12T10:02:00", b"2026-01-12T25:02:00"),
        ("01-sentence-started", b"T10:02:00+01:00", b"T10:02:00+25:00"),
        ("01-sentence-started", b"<Startdato>2026-01-12", b"<Startdato>2026-13-12"),
        (
            "01-sentence-started",
            b"<ForventetLoslatelse>2026-12-14",
            b"<ForventetLoslatelse>0000-12-14",
        ),
        ("03-transfer-completed", b"<Dato>2026-06-15", b"<Dato>2026-06-31"),
        ("08-release-planned", b"<Dato>2026-10-02", b"<Dato>2025-02-29"),
        ("10-escape-reported", b"<Tidspunkt>2026-07-03T21:30", b"<Tidspunkt>2026-07-03T21:60"),
    ],
)
def test_dates_must_be_real(name: str, old: bytes, new: bytes) -> None:
    raw = sample(name)
    assert old in raw
    error = rejection(raw.replace(old, new))
    assert error.reason is Reason.INVALID_DATE


def test_leap_days_are_real_dates() -> None:
    raw = sample("08-release-planned").replace(b"<Dato>2026-10-02", b"<Dato>2028-02-29")
    event = translate(raw, CTX)
    assert isinstance(event, ReleasePlanned)
    assert event.data.release.date == dt.date(2028, 2, 29)


def test_residence_municipality_is_checked() -> None:
    raw = sample("08-release-planned").replace(b">4204<", b">0012<")
    assert rejection(raw).reason is Reason.INVALID_MUNICIPALITY_NUMBER


def test_size_limit_comes_from_the_context() -> None:
    raw = sample("01-sentence-started")
    small = dataclasses.replace(CTX, max_document_bytes=len(raw) - 1)
    assert rejection(raw, small).reason is Reason.TOO_LARGE


def test_a_record_built_in_code_gets_the_same_checks() -> None:
    record = parse(sample("08-release-planned"), CTX)
    body = KodaUnnvikelse("2026-07-03T21:30:00+02:00", None)
    with pytest.raises(InputRejected) as caught:
        to_canonical(dataclasses.replace(record, body=body), CTX)
    assert caught.value.reason is Reason.BODY_MISMATCH
    with pytest.raises(InputRejected) as caught:
        to_canonical(dataclasses.replace(record, gjennomforingsform="FENGSEL_MIDDELS"), CTX)
    assert caught.value.reason is Reason.SCHEMA_VIOLATION
    case = KodaStraffesak("26-1", "UBETINGET_FENGSEL", ("",))
    with pytest.raises(InputRejected) as caught:
        to_canonical(dataclasses.replace(record, straffesak=case), CTX)
    assert caught.value.reason is Reason.SCHEMA_VIOLATION
    assert "Case.offences" in caught.value.detail


def test_names_are_never_in_a_rejection() -> None:
    record = parse(sample("02-transfer-planned"), CTX)
    person = KodaPerson("63817933442", "DNummer", "José", "Müller-Ærø4")
    with pytest.raises(InputRejected) as caught:
        to_canonical(dataclasses.replace(record, person=person), CTX)
    assert "Müller" not in str(caught.value)
    assert "Person.family_name" in caught.value.detail


# Properties over generated traffic.


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32))
def test_generated_records_survive_render_and_parse(seed: int) -> None:
    for record in valid_records(6, seed=seed):
        raw = render(record)
        assert parse(raw, CTX) == record
        event = translate(raw, CTX)
        assert event.sourceeventid == record.hendelse_id
        assert encode(event) == encode(translate(raw, CTX))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 10), st.integers(1, 9))
def test_any_single_changed_digit_of_the_identity_is_refused(
    seed: int, position: int, shift: int
) -> None:
    record: KodaHendelse = valid_records(1, seed=seed)[0]
    number = record.person.identitetsnummer
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    person = dataclasses.replace(record.person, identitetsnummer=changed)
    error = rejection(render(dataclasses.replace(record, person=person)))
    assert error.reason is Reason.INVALID_IDENTITY_NUMBER
    assert changed not in str(error)


FAR_AHEAD = f"{dt.datetime.now(dt.UTC).year + 101}-01-12"


@pytest.mark.parametrize(
    ("old", "value"),
    [
        ("2026-01-12</Startdato>", "1899-12-31"),
        ("2026-12-14</ForventetLoslatelse>", FAR_AHEAD),
        ("2026-01-12T10:02:00+01:00", "1850-01-12T10:02:00+01:00"),
        ("2026-01-12T10:02:00+01:00", "2026-01-12T10:02:00+14:01"),
        ("2026-01-12T10:02:00+01:00", "2026-01-12T10:02:00-15:00"),
    ],
)
def test_implausible_dates_are_refused(old: str, value: str) -> None:
    raw = sample("01-sentence-started")
    assert old.encode() in raw
    new = old.replace(old.split("<")[0], value)
    error = rejection(raw.replace(old.encode(), new.encode()))
    assert error.reason is Reason.INVALID_DATE
    assert value not in error.detail, "the value is not echoed"


@pytest.mark.parametrize("offset", [b"+14:00", b"-12:00", b"Z"])
def test_the_widest_real_offsets_and_a_century_ahead_are_accepted(offset: bytes) -> None:
    raw = sample("01-sentence-started").replace(b"+01:00</Registrert>", offset + b"</Registrert>")
    assert isinstance(translate(raw, CTX), SentenceStarted)


def test_an_expected_release_before_the_start_is_a_body_mismatch() -> None:
    raw = sample("01-sentence-started").replace(
        b"<ForventetLoslatelse>2026-12-14", b"<ForventetLoslatelse>2026-01-11"
    )
    error = rejection(raw)
    assert error.reason is Reason.BODY_MISMATCH
    assert "ForventetLoslatelse is before" in error.detail
    same_day = sample("01-sentence-started").replace(
        b"<ForventetLoslatelse>2026-12-14", b"<ForventetLoslatelse>2026-01-12"
    )
    assert isinstance(translate(same_day, CTX), SentenceStarted)


def test_codes_and_dates_built_in_code_are_not_echoed() -> None:
    record = parse(sample("01-sentence-started"), CTX)
    for changed in (
        dataclasses.replace(record, hendelsestype="Kari Nordmann"),
        dataclasses.replace(record, status="Kari Nordmann"),
        dataclasses.replace(record, gjennomforingsform="Kari Nordmann"),
        dataclasses.replace(record, registrert="Kari Nordmann"),
    ):
        with pytest.raises(InputRejected) as caught:
            to_canonical(changed, CTX)
        assert "Kari" not in str(caught.value)


CONSENT = """<?xml version="1.0" encoding="UTF-8"?>
<Hendelse xmlns="urn:no:kriminalomsorgen:koda:hendelse:v1" versjon="1">
  <HendelseId>KODA-2026-0000601</HendelseId>
  <Hendelsestype>SAMTYKKE</Hendelsestype>
  <Status>TRUKKET</Status>
  <Registrert>2026-11-25T10:00:00+01:00</Registrert>
  <Person>
    <Fodselsnummer>14838821279</Fodselsnummer>
    <Fornavn>Åse</Fornavn>
    <Etternavn>Ødegård</Etternavn>
  </Person>
  <Enhet kode="1001" navn="Agder fengsel, avdeling Froland"/>
  <Samtykke kilde="BRIK" gyldigTil="2027-12-31">
    <Mottaker>HELSE</Mottaker>
  </Samtykke>
</Hendelse>
"""


def test_consent_is_an_event_of_its_own() -> None:
    withdrawn = translate(CONSENT.encode(), CTX)
    assert isinstance(withdrawn, ConsentWithdrawn)
    consent = withdrawn.data.consent
    assert (consent.recipients, consent.source, consent.valid_until) == (
        (ConsentRecipient.HELSE,),
        "BRIK",
        dt.date(2027, 12, 31),
    )
    given = CONSENT.replace("TRUKKET", "GITT").replace(' gyldigTil="2027-12-31"', "")
    event = translate(given.encode(), CTX)
    assert isinstance(event, ConsentGiven)
    assert event.data.consent.valid_until is None
    assert translate(render(parse(given.encode(), CTX)), CTX) == event


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("<Status>TRUKKET</Status>", "<Status>PLANLAGT</Status>", Reason.STATUS_NOT_ALLOWED),
        ('gyldigTil="2027-12-31"', 'gyldigTil="2027-02-30"', Reason.INVALID_DATE),
        ("<Mottaker>HELSE</Mottaker>", "", Reason.SCHEMA_VIOLATION),
    ],
)
def test_a_consent_event_is_checked_like_the_others(old: str, new: str, reason: Reason) -> None:
    assert rejection(CONSENT.replace(old, new).encode()).reason is reason


def test_only_consent_may_leave_out_the_case_and_the_execution_form() -> None:
    release = sample("07-release-completed").decode()
    start, end = release.index("<Straffesak>"), release.index("</Straffesak>")
    without_case = release[:start] + release[end + len("</Straffesak>") :]
    error = rejection(without_case.encode())
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert "needs Straffesak" in error.detail
    status = sample("07-release-completed").replace(b"GJENNOMFORT", b"GITT")
    assert rejection(status).reason is Reason.STATUS_NOT_ALLOWED
