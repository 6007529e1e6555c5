"""Police custody documents for samples, tests and the benchmark: render, generate traffic.

`render` is the inverse of `adapters.police.parse`; it writes whatever the record holds, valid
or not. Each synthetic person's custody is a story in order: started, perhaps extended, ended.
Stories are interleaved; one person's documents always keep their order. The same seed always
gives the same documents; every identity number is synthetic (month + 80).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any, Final

from adapters.police.record import PoliceCustody, PoliceCustodyEvent, PoliceFacility, PolicePerson
from hubdev.demo.synthetic import SyntheticDocument, interleaved, seeded, synthetic_person
from schemas.errors import Reason

__all__ = ["as_json", "invalid_documents", "render", "valid_documents", "valid_records"]

_OSLO_WINTER: Final = dt.timezone(dt.timedelta(hours=1))
_EPOCH: Final = dt.datetime(2026, 1, 5, 8, 0, tzinfo=_OSLO_WINTER)
_DISTRICTS: Final = (
    ("Oslo", "Oslo tingrett"),
    ("Agder", "Agder tingrett"),
    ("Vest", "Bergen tingrett"),
    ("Trøndelag", "Trøndelag tingrett"),
    ("Øst", "Follo og Nordre Østfold tingrett"),
)
_FACILITIES: Final = (
    PoliceFacility("0301", "Oslo fengsel"),
    PoliceFacility("1001", "Agder fengsel, avdeling Froland"),
    PoliceFacility("4601", "Bergen fengsel"),
    PoliceFacility("5001", "Trondheim fengsel"),
)
_OUTCOMES: Final = ("RELEASED", "SENTENCE_EXECUTION", "TRANSFERRED")


def as_json(record: PoliceCustodyEvent) -> dict[str, Any]:
    """The document of `record` as the source writes it (absent fields left out)."""
    custody = {
        key: value
        for key, value in (
            ("decidedBy", record.custody.decided_by),
            ("decidedAt", record.custody.decided_at),
            ("until", record.custody.until),
            ("facility", _facility(record.custody.facility)),
            ("endedAt", record.custody.ended_at),
            ("outcome", record.custody.outcome),
        )
        if value is not None
    }
    person = record.person
    return {
        "eventId": record.event_id,
        "eventType": record.event_type,
        "occurredAt": record.occurred_at,
        "policeDistrict": record.police_district,
        "caseReference": record.case_reference,
        "person": {
            "nationalId": person.national_id,
            "firstName": person.first_name,
            "lastName": person.last_name,
        },
        "custody": custody,
        **({} if record.replaces is None else {"replaces": record.replaces}),
    }


def render(record: PoliceCustodyEvent) -> bytes:
    """The police custody JSON document of `record`, UTF-8, indented."""
    return json.dumps(as_json(record), ensure_ascii=False, indent=2).encode() + b"\n"


def valid_records(count: int, *, seed: int = 0) -> list[PoliceCustodyEvent]:
    """`count` valid documents: interleaved custody stories, each in its own order."""
    rng = seeded(seed)
    ids = (f"POL{seed}-{n:07d}" for n in itertools.count(1))
    return interleaved(count, rng, lambda: _story(rng, ids), new_story_share=0.3)


def valid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    return [_document(r, render(r)) for r in valid_records(count, seed=seed)]


def invalid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    """`count` invalid documents, cycling through kinds of fault, each with its reason."""
    bases = valid_records(count, seed=-1 - seed)  # another seed space: other eventIds
    documents = []
    for n, base in enumerate(bases):
        reason, spoil = _FAULTS[n % len(_FAULTS)]
        record = dataclasses.replace(base, event_id=f"POLX{seed}-{n + 1:06d}")
        documents.append(_document(record, spoil(record), reason))
    return documents


def _story(rng: random.Random, ids: Iterator[str]) -> list[PoliceCustodyEvent]:
    someone = synthetic_person(rng)
    person = PolicePerson(someone.identitetsnummer, someone.fornavn, someone.etternavn)
    district, court = rng.choice(_DISTRICTS)
    case = f"{rng.randrange(10_000_000, 99_999_999)}"
    clock = _EPOCH + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
    facility = rng.choice(_FACILITIES)

    def event(kind: str, custody: PoliceCustody) -> PoliceCustodyEvent:
        nonlocal clock
        clock += dt.timedelta(minutes=rng.randrange(60, 60 * 24 * 20))
        return PoliceCustodyEvent(
            next(ids), kind, clock.isoformat(), district, case, person, custody
        )

    def decision(weeks: int, where: PoliceFacility | None) -> PoliceCustody:
        day = clock.date() + dt.timedelta(days=1)
        until = day + dt.timedelta(weeks=weeks)
        return PoliceCustody(court, day.isoformat(), until.isoformat(), where)

    events = [event("CUSTODY_STARTED", decision(4, facility))]
    for _ in range(rng.choice((0, 0, 1, 2))):
        events.append(event("CUSTODY_EXTENDED", decision(rng.randrange(2, 9), None)))
    ended_at = (clock + dt.timedelta(days=rng.randrange(1, 20))).isoformat()
    ending = PoliceCustody(facility=facility, ended_at=ended_at, outcome=rng.choice(_OUTCOMES))
    return [*events, event("CUSTODY_ENDED", ending)]


def _facility(facility: PoliceFacility | None) -> dict[str, str] | None:
    return None if facility is None else {"code": facility.code, "name": facility.name}


def _document(
    record: PoliceCustodyEvent, raw: bytes, reason: Reason | None = None
) -> SyntheticDocument:
    return SyntheticDocument(raw, record.event_id, record.person.national_id, reason)


# Kinds of invalid document: what each should be refused with, and how to make one.

_Spoiler = Callable[[PoliceCustodyEvent], bytes]


def _edited(record: PoliceCustodyEvent, edit: Callable[[dict[str, Any]], None]) -> bytes:
    document = as_json(record)
    edit(document)
    return json.dumps(document, ensure_ascii=False).encode()


def _malformed(record: PoliceCustodyEvent) -> bytes:
    return render(record).rstrip()[:-1]  # the closing brace is gone


def _duplicate_key(record: PoliceCustodyEvent) -> bytes:
    return render(record).replace(b"{", b'{"eventId": "X", ', 1)


def _wrong_type(record: PoliceCustodyEvent) -> bytes:
    return _edited(record, lambda d: d["person"].update(nationalId=int(d["person"]["nationalId"])))


def _unknown_field(record: PoliceCustodyEvent) -> bytes:
    return _edited(record, lambda d: d["custody"].update(cell="B-214"))


def _missing_field(record: PoliceCustodyEvent) -> bytes:
    return _edited(record, lambda d: d["person"].pop("lastName"))


def _ended_without_outcome(record: PoliceCustodyEvent) -> bytes:
    ended = dataclasses.replace(
        record,
        event_type="CUSTODY_ENDED",
        custody=PoliceCustody(ended_at="2026-03-01T10:00:00+01:00"),
    )
    return render(ended)


def _broken_check_digit(record: PoliceCustodyEvent) -> bytes:
    number = record.person.national_id
    person = dataclasses.replace(
        record.person, national_id=number[:10] + str((int(number[10]) + 1) % 10)
    )
    return render(dataclasses.replace(record, person=person))


def _impossible_time(record: PoliceCustodyEvent) -> bytes:
    return render(dataclasses.replace(record, occurred_at="2026-02-30T10:00:00+01:00"))


def _until_before_decision(record: PoliceCustodyEvent) -> bytes:
    custody = PoliceCustody("Oslo tingrett", "2026-03-10", "2026-03-01", _FACILITIES[0])
    return render(dataclasses.replace(record, event_type="CUSTODY_STARTED", custody=custody))


def _latin1(record: PoliceCustodyEvent) -> bytes:
    person = dataclasses.replace(record.person, first_name="Bjørn")
    return render(dataclasses.replace(record, person=person)).replace(
        "ø".encode(), "ø".encode("latin-1")
    )


def _empty(_record: PoliceCustodyEvent) -> bytes:
    return b""


_FAULTS: Final[tuple[tuple[Reason, _Spoiler], ...]] = (
    (Reason.INVALID_JSON, _malformed),
    (Reason.SCHEMA_VIOLATION, _wrong_type),
    (Reason.SCHEMA_VIOLATION, _unknown_field),
    (Reason.SCHEMA_VIOLATION, _missing_field),
    (Reason.SCHEMA_VIOLATION, _ended_without_outcome),
    (Reason.INVALID_IDENTITY_NUMBER, _broken_check_digit),
    (Reason.INVALID_DATE, _impossible_time),
    (Reason.INVALID_DATE, _until_before_decision),
    (Reason.INVALID_JSON, _duplicate_key),
    (Reason.INVALID_ENCODING, _latin1),
    (Reason.EMPTY_DOCUMENT, _empty),
)
