"""The court adapter: final judgments, field by field, and every rule it adds to the XSD."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

import adapters.court
from adapters.context import TranslationContext
from adapters.court import SOURCE, parse, to_canonical, translate
from adapters.court.record import CourtSanction
from hubdev.demo import COURT_SAMPLES
from hubdev.demo.court import invalid_documents, render, valid_documents
from schemas.codec import decode, encode
from schemas.errors import InputRejected, Reason
from schemas.events import IdentityKind, JudgmentFinal, Reaction
from schemas.ids import canonical_id
from tests.samples.hostile import COURT, Hostile, hostile_documents
from tests.tripwires import file_tripwire, tcp_tripwire


def person_key(number: str) -> str:
    return "pk-" + hashlib.sha256(number.encode()).hexdigest()[:32]


CTX = TranslationContext(person_key, True, 1024 * 1024)
PRISON = (COURT_SAMPLES / "01-judgment-prison.xml").read_bytes()
FORVARING = (COURT_SAMPLES / "02-judgment-forvaring.xml").read_bytes()


def rejection(raw: bytes, ctx: TranslationContext = CTX) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        translate(raw, ctx)
    return caught.value


def test_the_public_surface() -> None:
    assert sorted(adapters.court.__all__) == ["SOURCE", "parse", "to_canonical", "translate"]
    assert SOURCE == "urn:no:domstol:lovisa"


def test_a_prison_sentence_field_by_field() -> None:
    event = translate(PRISON, CTX)
    assert isinstance(event, JudgmentFinal)
    assert event.id == canonical_id(SOURCE, "TOSL-2025-71204")
    assert (event.sourceeventid, event.correlationid) == ("TOSL-2025-71204", event.id)
    assert event.subject == person_key("14838821279")
    assert event.time == dt.datetime(2025, 12, 11, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    judgment = event.data.judgment
    assert (judgment.court, judgment.case_number) == ("Oslo tingrett", "25-183344MED-TOSL/05")
    assert (judgment.pronounced_date, judgment.final_date) == (
        dt.date(2025, 11, 20),
        dt.date(2025, 12, 11),
    )
    sanction = judgment.sanction
    assert (sanction.reaction, sanction.days, sanction.remand_deduction_days) == (
        Reaction.UBETINGET_FENGSEL,
        365,
        71,
    )
    assert (sanction.frame_years, sanction.minimum_years) == (None, None)
    assert judgment.offences == ("Straffeloven § 321",)
    person = event.data.person
    assert (person.given_name, person.family_name) == ("Åse", "Ødegård")


def test_forvaring_has_a_time_frame_and_a_minimum_time() -> None:
    event = translate(FORVARING, CTX)
    sanction = event.data.judgment.sanction  # type: ignore[union-attr]
    assert (sanction.reaction, sanction.days) == (Reaction.FORVARING, None)
    assert (sanction.frame_years, sanction.minimum_years) == (8, 5)
    assert event.data.person.identity_kind is IdentityKind.DNR  # type: ignore[union-attr]
    assert len(event.data.judgment.offences) == 2  # type: ignore[union-attr]


def test_the_event_round_trips_and_a_resend_has_the_same_bytes() -> None:
    event = translate(PRISON, CTX)
    assert encode(translate(PRISON, CTX)) == encode(event)
    assert decode(encode(event)) == event


def test_parse_then_to_canonical_is_translate() -> None:
    assert to_canonical(parse(PRISON, CTX), CTX) == translate(PRISON, CTX)


@pytest.mark.parametrize(
    ("sanction", "reason"),
    [
        (CourtSanction("FORVARING", dager=2920), Reason.BODY_MISMATCH),
        (CourtSanction("UBETINGET_FENGSEL", None, 8, 5), Reason.BODY_MISMATCH),
        (CourtSanction("FORVARING", None, 5, 8), Reason.SCHEMA_VIOLATION),
        (CourtSanction("UBETINGET_FENGSEL", 90, 8, 5), Reason.SCHEMA_VIOLATION),
        (CourtSanction("FORVARING", None, 8, None), Reason.SCHEMA_VIOLATION),
        (CourtSanction("UBETINGET_FENGSEL", 0), Reason.SCHEMA_VIOLATION),
    ],
    ids=["forvaring-days", "prison-years", "minimum-over-frame", "both", "no-minimum", "0-days"],
)
def test_the_length_must_fit_the_reaction(sanction: CourtSanction, reason: Reason) -> None:
    record = dataclasses.replace(parse(PRISON, CTX), reaksjon=sanction)
    assert rejection(render(record)).reason is reason


@pytest.mark.parametrize(
    ("old", "new", "reason", "says"),
    [
        (b"<Rettskraftig>2025-12-11", b"<Rettskraftig>2025-02-30", Reason.INVALID_DATE, "Rett"),
        (b"<Avsagt>2025-11-20", b"<Avsagt>2025-12-20", Reason.INVALID_DATE, "before Avsagt"),
        (b"14838821279", b"14838821278", Reason.INVALID_IDENTITY_NUMBER, "check digit"),
        (b"<Fodselsnummer>14838821279</Fodselsnummer>", b"<DNummer>14838821279</DNummer>",
         Reason.INVALID_IDENTITY_NUMBER, "DNummer holds a FNR"),
        (b'<Lovbrudd paragraf="Straffeloven \xc2\xa7 321"/>', b"",
         Reason.SCHEMA_VIOLATION, "Lovbrudd"),
        (b"<Domstol>Oslo tingrett</Domstol>", b"", Reason.SCHEMA_VIOLATION, "Domstol"),
        (b'type="UBETINGET_FENGSEL"', b'type="DODSSTRAFF"', Reason.SCHEMA_VIOLATION, "type"),
        (b"<Fornavn>\xc3\x85se", b"<Fornavn>\xc3\x85se2", Reason.SCHEMA_VIOLATION, "Fornavn"),
    ],
)  # fmt: skip
def test_rules_beyond_shape(old: bytes, new: bytes, reason: Reason, says: str) -> None:
    assert old in PRISON
    error = rejection(PRISON.replace(old, new))
    assert error.reason is reason
    assert says in error.detail
    assert "14838821279" not in str(error)


def test_synthetic_identities_can_be_refused() -> None:
    production = dataclasses.replace(CTX, allow_test_identities=False)
    assert rejection(PRISON, production).reason is Reason.TEST_IDENTITY_NOT_ALLOWED


@pytest.mark.parametrize("hostile", hostile_documents(base=COURT), ids=lambda d: d.name)
def test_hostile_xml_meets_the_same_gate(hostile: Hostile) -> None:
    assert rejection(hostile.raw).reason is hostile.reason


def test_hostile_xml_reads_no_file_and_connects_nowhere(tmp_path: Path) -> None:
    secret = b"TRIPWIRE-COURT"
    with file_tripwire(tmp_path, secret) as wire, tcp_tripwire() as listener:
        for hostile in hostile_documents(target_file=str(wire.path), url=listener.url, base=COURT):
            assert secret not in str(rejection(hostile.raw)).encode()
    assert not wire.opened.is_set()
    assert listener.connections == []


def test_generated_judgments_are_valid_and_cover_every_kind_of_length() -> None:
    documents = valid_documents(300, seed=4)
    events = [translate(d.raw, CTX) for d in documents]
    reactions = {e.data.judgment.sanction.reaction for e in events}  # type: ignore[union-attr]
    assert Reaction.FORVARING in reactions
    assert Reaction.UBETINGET_FENGSEL in reactions
    assert len({d.hendelse_id for d in documents}) == 300


def test_generated_invalid_judgments_are_refused_for_their_reason() -> None:
    documents = invalid_documents(48, seed=2)
    for document in documents:
        assert rejection(document.raw).reason is document.expected_reason, document.hendelse_id
    assert len({d.expected_reason for d in documents}) >= 8


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<Avsagt>2025-11-20", b"<Avsagt>1899-11-20"),
        (
            b"<Rettskraftig>2025-12-11",
            f"<Rettskraftig>{dt.datetime.now(dt.UTC).year + 101}-12-11".encode(),
        ),
    ],
)
def test_implausible_dates_are_refused(old: bytes, new: bytes) -> None:
    assert old in PRISON
    assert rejection(PRISON.replace(old, new)).reason is Reason.INVALID_DATE


def test_a_correction_names_the_judgment_it_replaces() -> None:
    record = dataclasses.replace(parse(PRISON, CTX), dom_id="TOSL-2025-71205")
    fixed = render(dataclasses.replace(record, erstatter="TOSL-2025-71204"))
    event = translate(fixed, CTX)
    assert event.replaces == canonical_id(SOURCE, "TOSL-2025-71204")
    assert translate(PRISON, CTX).replaces is None
    itself = render(dataclasses.replace(record, erstatter=record.dom_id))
    assert rejection(itself).reason is Reason.SCHEMA_VIOLATION
