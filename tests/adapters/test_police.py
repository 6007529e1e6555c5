"""The police adapter: custody started, extended, ended; and every kind of bad JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

import pytest

import adapters.police
from adapters.context import TranslationContext
from adapters.police import SOURCE, parse, to_canonical, translate
from hubdev.demo import POLICE_SAMPLES
from hubdev.demo.police import invalid_documents, valid_documents
from schemas.codec import decode, encode
from schemas.errors import InputRejected, Reason
from schemas.events import (
    CustodyEnded,
    CustodyExtended,
    CustodyOutcome,
    CustodyStarted,
    IdentityKind,
    Unit,
)
from schemas.ids import canonical_id


def person_key(number: str) -> str:
    return "pk-" + hashlib.sha256(number.encode()).hexdigest()[:32]


CTX = TranslationContext(person_key, True, 64 * 1024)
OSLO_WINTER = dt.timezone(dt.timedelta(hours=1))


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((POLICE_SAMPLES / f"{name}.json").read_bytes())
    return loaded


STARTED = sample("01-custody-started")


def raw(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def rejection(document: bytes, ctx: TranslationContext = CTX) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        translate(document, ctx)
    return caught.value


def edited(path: str, value: object, base: dict[str, Any] = STARTED) -> bytes:
    """`base` with the field at dotted `path` set to `value` (`...` removes it)."""
    document = json.loads(json.dumps(base))
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return raw(document)


def test_the_public_surface() -> None:
    assert sorted(adapters.police.__all__) == ["SOURCE", "parse", "to_canonical", "translate"]
    assert SOURCE == "urn:no:politiet:varetekt"


def test_custody_started_field_by_field() -> None:
    event = translate(raw(STARTED), CTX)
    assert isinstance(event, CustodyStarted)
    assert event.id == canonical_id(SOURCE, "POL-OSLO-2025-118842")
    assert event.time == dt.datetime(2025, 10, 2, 14, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert event.subject == person_key("14838821279")
    data = event.data
    assert (data.police_district, data.case_reference) == ("Oslo", "14829311")
    assert data.person.identity_kind is IdentityKind.FNR
    assert (data.person.given_name, data.person.family_name) == ("Åse", "Ødegård")
    custody = data.custody
    assert (custody.decided_by, custody.decided_at, custody.until) == (
        "Oslo tingrett",
        dt.date(2025, 10, 2),
        dt.date(2025, 10, 30),
    )
    assert custody.facility == Unit(code="0301", name="Oslo fengsel")


def test_custody_extended() -> None:
    event = translate(raw(sample("02-custody-extended")), CTX)
    assert isinstance(event, CustodyExtended)
    assert event.data.custody.until == dt.date(2025, 12, 24)
    assert event.data.custody.facility is None


def test_custody_ended() -> None:
    event = translate(raw(sample("03-custody-ended")), CTX)
    assert isinstance(event, CustodyEnded)
    assert event.data.custody.outcome is CustodyOutcome.SENTENCE_EXECUTION
    assert event.data.custody.ended_at == dt.datetime(2025, 12, 12, 9, 0, tzinfo=OSLO_WINTER)


def test_a_d_number_is_recognised() -> None:
    event = translate(raw(sample("04-custody-started")), CTX)
    assert event.data.person.identity_kind is IdentityKind.DNR  # type: ignore[union-attr]


def test_parse_then_to_canonical_is_translate_and_round_trips() -> None:
    event = to_canonical(parse(raw(STARTED), CTX), CTX)
    assert event == translate(raw(STARTED), CTX)
    assert decode(encode(event)) == event


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b'{"eventId": "X",', Reason.INVALID_JSON),
        (b"{'eventId': 'X'}", Reason.INVALID_JSON),
        (b'{"eventId": NaN}', Reason.INVALID_JSON),
        (b'{"a": 1, "a": 2}', Reason.INVALID_JSON),
        (b"[" * 100_000 + b"]" * 100_000, Reason.TOO_LARGE),
        (b"[" * 30_000 + b"]" * 30_000, Reason.INVALID_JSON),
        (b'{"x": "\xff"}', Reason.INVALID_ENCODING),
        (b"", Reason.EMPTY_DOCUMENT),
        (b" \n", Reason.EMPTY_DOCUMENT),
        (b"[]", Reason.SCHEMA_VIOLATION),
        (b"null", Reason.SCHEMA_VIOLATION),
    ],
    ids=[
        "truncated", "single-quotes", "nan", "duplicate-key", "too-large", "too-deep",
        "latin1", "empty", "blank", "array", "null",
    ],
)  # fmt: skip
def test_documents_that_are_not_acceptable_json(document: bytes, reason: Reason) -> None:
    assert rejection(document).reason is reason


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("person.nationalId", 14838821279, "$.person.nationalId: must be of type string"),
        ("custody.until", 20251030, "$.custody.until: must be of type string"),
        ("person", "Åse", "$.person: must be of type object"),
        ("eventType", "CUSTODY_PAUSED", "$.eventType: not one of"),
        ("person.nationalId", "1483882127", "$.person.nationalId: does not match"),
        ("occurredAt", "2025-10-02 14:02", "$.occurredAt: does not match"),
        ("person.nationalId", ..., "$.person.nationalId: required, missing"),
        ("custody.facility", ..., "$.custody.facility: required, missing"),
        ("custody.facility.name", ..., "$.custody.facility.name: required, missing"),
        ("caseReference", ..., "$.caseReference: required, missing"),
        ("cell", "B-214", "$: 1 unknown field"),
        ("person.middleName", "Kari", "$.person: 1 unknown field"),
        ("custody.outcome", "RELEASED", "$.custody.outcome: not allowed for this eventType"),
        ("policeDistrict", "", "$.policeDistrict: breaks minLength 1"),
    ],
)
def test_schema_violations_name_the_path(path: str, value: object, says: str) -> None:
    error = rejection(edited(path, value))
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert says in error.detail
    assert "14838821279" not in str(error)


def test_a_utf8_byte_order_mark_is_tolerated() -> None:
    # RFC 8259 lets a parser ignore one; refusing it would help no one.
    assert translate(b"\xef\xbb\xbf" + raw(STARTED), CTX) == translate(raw(STARTED), CTX)


def test_an_end_needs_its_time_and_outcome() -> None:
    ended = {**STARTED, "eventType": "CUSTODY_ENDED"}
    error = rejection(raw(ended))
    assert "$.custody.endedAt: required, missing" in error.detail
    assert "$.custody.outcome: required, missing" in error.detail


def test_an_end_that_carries_the_whole_custody_object_is_accepted() -> None:
    # Publishers send the custody as it stands; the decision's fields come along with the end.
    ended = sample("03-custody-ended")
    whole = {**ended["custody"], **{k: STARTED["custody"][k] for k in ("decidedBy", "decidedAt")}}
    whole["until"] = STARTED["custody"]["until"]
    event = translate(raw({**ended, "custody": whole}), CTX)
    assert isinstance(event, CustodyEnded)
    assert event == translate(raw(ended), CTX)


def test_the_residence_municipality_is_carried_when_the_police_know_it() -> None:
    assert translate(raw(STARTED), CTX).data.residence_municipality is None
    event = translate(edited("person.residenceMunicipality", "4204"), CTX)
    assert event.data.residence_municipality == "4204"
    error = rejection(edited("person.residenceMunicipality", "0012"))
    assert error.reason is Reason.INVALID_MUNICIPALITY_NUMBER
    assert rejection(edited("person.residenceMunicipality", "42")).reason is (
        Reason.SCHEMA_VIOLATION
    )


@pytest.mark.parametrize(
    ("path", "value", "reason", "says"),
    [
        ("person.nationalId", "14838821278", Reason.INVALID_IDENTITY_NUMBER, "check digit"),
        ("person.nationalId", "31138821279", Reason.INVALID_IDENTITY_NUMBER, "calendar date"),
        ("occurredAt", "2025-02-30T14:02:00+01:00", Reason.INVALID_DATE, "$.occurredAt"),
        ("custody.decidedAt", "2025-13-02", Reason.INVALID_DATE, "$.custody.decidedAt"),
        ("custody.until", "2025-09-30", Reason.INVALID_DATE, "before $.custody.decidedAt"),
        ("person.firstName", "Åse2", Reason.SCHEMA_VIOLATION, "given_name"),
        ("custody.facility.code", "03 01", Reason.SCHEMA_VIOLATION, "facility.code"),
    ],
)
def test_rules_beyond_the_schema(path: str, value: str, reason: Reason, says: str) -> None:
    error = rejection(edited(path, value))
    assert error.reason is reason
    assert says in error.detail


def test_synthetic_identities_can_be_refused() -> None:
    production = dataclasses.replace(CTX, allow_test_identities=False)
    assert rejection(raw(STARTED), production).reason is Reason.TEST_IDENTITY_NOT_ALLOWED


def test_generated_stories_cover_every_event_in_order() -> None:
    documents = valid_documents(400, seed=6)
    events = [translate(d.raw, CTX) for d in documents]
    assert {type(e) for e in events} == {CustodyStarted, CustodyExtended, CustodyEnded}
    per_person: dict[str, list[str]] = {}
    for document, event in zip(documents, events, strict=True):
        per_person.setdefault(document.identity_number, []).append(event.type.split(".")[3])
    for story in per_person.values():
        assert story[0] == "started"
        assert story[-1] in {"ended", "extended", "started"}  # the last story may be cut short
        assert "started" not in story[1:]


def test_generated_invalid_documents_are_refused_for_their_reason() -> None:
    documents = invalid_documents(44, seed=2)
    for document in documents:
        assert rejection(document.raw).reason is document.expected_reason, document.hendelse_id
    assert {d.expected_reason for d in documents} >= {
        Reason.INVALID_JSON,
        Reason.SCHEMA_VIOLATION,
        Reason.INVALID_IDENTITY_NUMBER,
        Reason.INVALID_DATE,
        Reason.INVALID_ENCODING,
        Reason.EMPTY_DOCUMENT,
    }


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("occurredAt", "1899-10-02T14:02:00+02:00"),
        ("occurredAt", "2025-10-02T14:02:00+14:30"),
        ("occurredAt", "2025-10-02T14:02:00-14:01"),
        ("custody.decidedAt", "1776-07-04"),
        ("custody.until", f"{dt.datetime.now(dt.UTC).year + 101}-10-30"),
    ],
)
def test_implausible_dates_are_refused(path: str, value: str) -> None:
    error = rejection(edited(path, value))
    assert error.reason is Reason.INVALID_DATE
    assert value not in error.detail


def test_unknown_keys_are_counted_never_echoed() -> None:
    # Reproduced: every unknown key was echoed, without limit (a 789,000-character reason).
    document = json.loads(json.dumps(STARTED))
    for n in range(30_000):
        document[f"Kari Nordmann {n}"] = n
    document["person"]["firstNme"] = document["person"].pop("firstName")
    error = rejection(raw(document), dataclasses.replace(CTX, max_document_bytes=2**20))
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert "Kari" not in error.detail
    assert "$: 30000 unknown fields" in error.detail
    assert "$.person: 1 unknown field (perhaps meant: firstName)" in error.detail
    assert len(str(error)) <= 600


def test_escaped_keys_and_duplicates_are_not_echoed() -> None:
    document = raw(STARTED).replace(b'"person": {', b'"person": {"\\u004bari": "x", ', 1)
    error = rejection(document)
    assert "Kari" not in error.detail
    twice = raw(STARTED).replace(b'"person": {', b'"person": {"Kari": 1, "Kari": 2, ', 1)
    error = rejection(twice)
    assert error.reason is Reason.INVALID_JSON
    assert "Kari" not in error.detail


def test_broken_json_is_described_without_its_text() -> None:
    error = rejection(b'{"eventId": "Kari Nordmann 12838545619')
    assert error.reason is Reason.INVALID_JSON
    assert "Kari" not in error.detail
    assert "line 1, column 13" in error.detail


def test_a_correction_names_the_document_it_replaces() -> None:
    fixed = {**STARTED, "eventId": "POL-FIX-1", "replaces": STARTED["eventId"]}
    event = translate(raw(fixed), CTX)
    assert event.replaces == canonical_id(SOURCE, STARTED["eventId"])
    assert translate(raw(STARTED), CTX).replaces is None
    itself = {**STARTED, "replaces": STARTED["eventId"]}
    assert rejection(raw(itself)).reason is Reason.SCHEMA_VIOLATION
