"""Deterministic synthetic KODA traffic for the demo, end-to-end tests and the benchmark.

(Court and police traffic: `hubdev.demo.court` and `hubdev.demo.police`, built on the people here.)

The same seed always gives the same documents. Each synthetic person lives through a
plausible story: sentence started, perhaps a transfer (planned, then completed or cancelled),
rarely an escape, then a release (planned, sometimes corrected, then completed or cancelled).
Stories are interleaved, and one person's events always keep their order, so per-person
ordering can be checked at the far end. Every identity number is synthetic (month + 80).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, TypeVar

from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaPerson,
    KodaSamtykke,
    KodaStraffesak,
    KodaUnnvikelse,
)
from hubdev.demo.kodaxml import render
from schemas.errors import Reason
from schemas.identity import IdentityKind, check_digits

__all__ = [
    "SyntheticDocument",
    "interleaved",
    "invalid_documents",
    "mixed_documents",
    "seeded",
    "synthetic_identity_number",
    "synthetic_person",
    "valid_documents",
    "valid_records",
]

_T = TypeVar("_T")

_SYNTHETIC_MONTH_OFFSET: Final = 80
_D_NUMBER_DAY_OFFSET: Final = 40
_OSLO_WINTER: Final = dt.timezone(dt.timedelta(hours=1))
_EPOCH: Final = dt.datetime(2026, 1, 5, 8, 0, tzinfo=_OSLO_WINTER)

_GIVEN_NAMES: Final = (
    "Åse", "Øystein", "Bjørn", "Kåre", "Sølvi", "Håkon", "José", "Zoë", "Renée", "Mari-Ann",
    "Jørgen", "Ingrid", "Ola", "Kari", "Ahmed", "Fatima", "Łukasz", "Agnieszka", "Oğuz", "Siv",
)  # fmt: skip
_FAMILY_NAMES: Final = (
    "Ødegård", "Müller-Ærø", "Nordmann", "Hansen", "Bråten", "Sæther", "Løvås", "Kowalski",
    "Nowak", "O\u2019Brien", "D'Angelo", "Ó Súilleabháin", "Berg", "Haugen", "Dahl", "Nguyễn",
)  # fmt: skip
_UNITS: Final = (
    KodaEnhet("1001", "Agder fengsel, avdeling Froland"),
    KodaEnhet("0301", "Oslo fengsel"),
    KodaEnhet("4601", "Bergen fengsel"),
    KodaEnhet("5001", "Trondheim fengsel"),
    KodaEnhet("0302", "Ila fengsel og forvaringsanstalt"),
    KodaEnhet("3101", "Halden fengsel"),
    KodaEnhet("3901", "Bastøy fengsel"),
    KodaEnhet("0399", "Kriminalomsorgen Oslo friomsorgskontor"),
)
_PRISON_FORMS: Final = ("FENGSEL_HOY", "FENGSEL_LAV")
_LATER_FORMS: Final = ("FENGSEL_LAV", "OVERGANGSBOLIG", "ELEKTRONISK_KONTROLL", "INSTITUSJON")
_OFFENCES: Final = (
    "Straffeloven § 321",
    "Straffeloven § 322",
    "Straffeloven § 231",
    "Straffeloven § 271",
    "Vegtrafikkloven § 31",
)
_MUNICIPALITIES: Final = ("0301", "4204", "5001", "4601", "1103", "5501", "1804", "4203")
_CONSENTS: Final = (
    ((), 40),
    (("KOMMUNE",), 30),
    (("KOMMUNE", "HELSE"), 20),
    (("NAV", "KOMMUNE", "HELSE"), 10),
)
_NEEDS: Final = ("BOLIG", "ARBEID", "HELSE", "RUS", "OKONOMI")
_TRANSFER_REASONS: Final = ("Soningsprogresjon", "Plassbehov", "Behandlingstilbud", None)


@dataclass(frozen=True, slots=True)
class SyntheticDocument:
    """A generated document, what it should become, and whose it is (for ordering checks)."""

    raw: bytes = field(repr=False)
    hendelse_id: str
    identity_number: str = field(repr=False)
    expected_reason: Reason | None = None


def synthetic_identity_number(rng: random.Random, kind: IdentityKind = IdentityKind.FNR) -> str:
    """A valid synthetic fødselsnummer or D-nummer (month + 80)."""
    while True:
        born = _EPOCH.date() - dt.timedelta(days=rng.randrange(18 * 365, 75 * 365))
        day = born.day + (_D_NUMBER_DAY_OFFSET if kind is IdentityKind.DNR else 0)
        month = born.month + _SYNTHETIC_MONTH_OFFSET
        # 1900-1999 births have individual numbers 000-499, 2000-2039 births 500-999.
        individual = rng.randrange(0, 500) if born.year < 2000 else rng.randrange(500, 1000)
        first_nine = f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}"
        digits = check_digits(first_nine)
        if digits is not None:
            return first_nine + digits


def valid_records(count: int, *, seed: int = 0) -> list[KodaHendelse]:
    """`count` valid records: interleaved person stories, each in its own order."""
    rng = seeded(seed)
    ids = (f"SYN{seed}-{n:07d}" for n in itertools.count(1))
    return interleaved(count, rng, lambda: _Story(rng, ids).events(), new_story_share=0.25)


def interleaved(
    count: int, rng: random.Random, story: Callable[[], Iterable[_T]], *, new_story_share: float
) -> list[_T]:
    """`count` items of stories told side by side, each story's items in their order: as a
    source system sends about many people at once. A new story starts at `new_story_share` of
    the steps (and whenever none is open)."""
    open_stories: list[deque[_T]] = []
    items: list[_T] = []
    while len(items) < count:
        if not open_stories or rng.random() < new_story_share:
            open_stories.append(deque(story()))
        index = rng.randrange(len(open_stories))
        items.append(open_stories[index].popleft())
        if not open_stories[index]:
            del open_stories[index]
    return items


def valid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    """`count` valid KODA documents (see `valid_records`)."""
    return [_document(record, render(record)) for record in valid_records(count, seed=seed)]


def invalid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    """`count` invalid documents, cycling through kinds of fault, each with its reason."""
    rng = seeded(seed)
    bases = valid_records(count, seed=-1 - seed)  # another seed space: other HendelseIds
    documents = []
    for n, base in enumerate(bases):
        reason, spoil = _FAULTS[n % len(_FAULTS)]
        record = dataclasses.replace(base, hendelse_id=f"SYNX{seed}-{n + 1:06d}")
        documents.append(_document(record, spoil(record, rng), reason))
    return documents


def mixed_documents(valid: int, invalid: int, *, seed: int = 0) -> list[SyntheticDocument]:
    """`valid` good and `invalid` bad documents; the bad ones scattered among the good."""
    rng = seeded(seed)
    documents = valid_documents(valid, seed=seed)
    for bad in invalid_documents(invalid, seed=seed):
        documents.insert(rng.randrange(len(documents) + 1), bad)
    return documents


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible test data, never a secret


def _document(record: KodaHendelse, raw: bytes, reason: Reason | None = None) -> SyntheticDocument:
    return SyntheticDocument(raw, record.hendelse_id, record.person.identitetsnummer, reason)


class _Story:
    """One person's events, in order."""

    def __init__(self, rng: random.Random, ids: Iterator[str]) -> None:
        self._rng = rng
        self._ids = ids
        self._clock = _EPOCH + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
        self._person = synthetic_person(rng)
        self._case = _case(rng)
        self._unit = rng.choice(_UNITS[:-1])
        self._form = rng.choice(_PRISON_FORMS)

    def events(self) -> list[KodaHendelse]:
        events = [self._started()]
        if self._rng.random() < 0.35:
            events += self._transfer()
        if self._rng.random() < 0.04:
            events.append(self._escape())
        if self._rng.random() < 0.2:
            events += self._consent()
        return events + self._release()

    def _event(
        self, kind: str, status: str, body: KodaBody, erstatter: str | None = None
    ) -> KodaHendelse:
        self._clock += dt.timedelta(minutes=self._rng.randrange(60, 60 * 24 * 20))
        return KodaHendelse(
            versjon="1",
            hendelse_id=next(self._ids),
            hendelsestype=kind,
            status=status,
            registrert=self._clock.isoformat(),
            erstatter=erstatter,
            person=self._person,
            straffesak=self._case,
            enhet=self._unit,
            gjennomforingsform=self._form,
            body=body,
        )

    def _day(self, days_ahead: int) -> str:
        return (self._clock.date() + dt.timedelta(days=days_ahead)).isoformat()

    def _started(self) -> KodaHendelse:
        expected = self._day(self._rng.randrange(60, 900)) if self._rng.random() < 0.7 else None
        return self._event(
            "IVERKSETTELSE", "GJENNOMFORT", KodaIverksettelse(self._day(0), expected)
        )

    def _transfer(self) -> list[KodaHendelse]:
        to_unit, to_form = self._rng.choice(_UNITS), self._rng.choice(_LATER_FORMS)
        body = KodaOverforing(
            self._day(self._rng.randrange(7, 40)),
            to_unit,
            to_form,
            self._rng.choice(_TRANSFER_REASONS),
        )
        planned = self._event("OVERFORING", "PLANLAGT", body)
        if self._rng.random() < 0.2:
            return [planned, self._event("OVERFORING", "KANSELLERT", body)]
        done = self._event("OVERFORING", "GJENNOMFORT", body)
        self._unit, self._form = to_unit, to_form
        return [planned, done]

    def _consent(self) -> list[KodaHendelse]:
        """Consent collected in BRIK as its own event; now and then withdrawn again."""
        to_whom = self._rng.choice((("HELSE",), ("KOMMUNE", "HELSE"), ("KOMMUNE", "HELSE", "NAV")))
        until = self._day(self._rng.randrange(200, 800)) if self._rng.random() < 0.5 else None
        given = self._event("SAMTYKKE", "GITT", KodaSamtykke("BRIK", until, to_whom))
        events = [dataclasses.replace(given, straffesak=None, gjennomforingsform=None)]
        if self._rng.random() < 0.3:
            withdrawn = self._event("SAMTYKKE", "TRUKKET", KodaSamtykke("BRIK", None, to_whom))
            events.append(dataclasses.replace(withdrawn, straffesak=None, gjennomforingsform=None))
        return events

    def _escape(self) -> KodaHendelse:
        when = (self._clock + dt.timedelta(hours=self._rng.randrange(1, 48))).isoformat()
        description = self._rng.choice(("Uteble etter permisjon", "Rømte under fremstilling", None))
        return self._event("UNNVIKELSE", "GJENNOMFORT", KodaUnnvikelse(when, description))

    def _release(self) -> list[KodaHendelse]:
        body = self._release_body()
        planned = self._event("LOSLATELSE", "PLANLAGT", body)
        events = [planned]
        if self._rng.random() < 0.1:
            body = dataclasses.replace(body, dato=self._day(self._rng.randrange(30, 60)))
            events.append(self._event("LOSLATELSE", "PLANLAGT", body, planned.hendelse_id))
        status = "KANSELLERT" if self._rng.random() < 0.15 else "GJENNOMFORT"
        return [*events, self._event("LOSLATELSE", status, body)]

    def _release_body(self) -> KodaLoslatelse:
        rng = self._rng
        kind = (
            "ENDT_VARETEKT"
            if self._case.reaksjon == "VARETEKT"
            else rng.choice(("ENDT_STRAFF", "ENDT_STRAFF", "PROVELOSLATELSE", "UTVISNING"))
        )
        consent = rng.choices([c for c, _ in _CONSENTS], weights=[w for _, w in _CONSENTS])[0]
        return KodaLoslatelse(
            dato=self._day(rng.randrange(14, 120)),
            type=kind,
            provetid_dager=rng.choice((365, 730, 1095)) if kind == "PROVELOSLATELSE" else None,
            oppholdskommune=rng.choice(_MUNICIPALITIES) if rng.random() < 0.85 else None,
            samtykke=consent,
            behov=tuple(rng.sample(_NEEDS, rng.randrange(0, 3))) if consent else (),
        )


def synthetic_person(rng: random.Random) -> KodaPerson:
    """A synthetic person (one in ten with a D-nummer), with a name from many traditions."""
    d_number = rng.random() < 0.1
    kind = IdentityKind.DNR if d_number else IdentityKind.FNR
    return KodaPerson(
        identitetsnummer=synthetic_identity_number(rng, kind),
        nummertype="DNummer" if d_number else "Fodselsnummer",
        fornavn=rng.choice(_GIVEN_NAMES),
        etternavn=rng.choice(_FAMILY_NAMES),
    )


def _case(rng: random.Random) -> KodaStraffesak:
    reaction = rng.choices(
        ("UBETINGET_FENGSEL", "VARETEKT", "FORVARING", "SAMFUNNSSTRAFF", "BOTETJENESTE"),
        weights=(70, 15, 3, 8, 4),
    )[0]
    year, serial, part = rng.randrange(20, 27), rng.randrange(10_000, 999_999), rng.randrange(1, 9)
    number = f"{year}-{serial:06d}MED-TOSL/0{part}"
    return KodaStraffesak(number, reaction, tuple(rng.sample(_OFFENCES, rng.randrange(0, 3))))


# Kinds of invalid document: what each should be refused with, and how to make one.

_Spoiler = Callable[[KodaHendelse, random.Random], bytes]


def _broken_check_digit(record: KodaHendelse, _rng: random.Random) -> bytes:
    number = record.person.identitetsnummer
    wrong = number[:10] + str((int(number[10]) + 1) % 10)
    return render(
        dataclasses.replace(
            record, person=dataclasses.replace(record.person, identitetsnummer=wrong)
        )
    )


def _wrong_body(record: KodaHendelse, _rng: random.Random) -> bytes:
    kind = "UNNVIKELSE" if record.hendelsestype != "UNNVIKELSE" else "LOSLATELSE"
    return render(dataclasses.replace(record, hendelsestype=kind, status="GJENNOMFORT"))


def _wrong_status(record: KodaHendelse, _rng: random.Random) -> bytes:
    body = KodaIverksettelse("2026-03-01", None)
    return render(
        dataclasses.replace(record, hendelsestype="IVERKSETTELSE", status="PLANLAGT", body=body)
    )


def _impossible_date(record: KodaHendelse, _rng: random.Random) -> bytes:
    return render(dataclasses.replace(record, registrert="2026-02-30T10:00:00+01:00"))


def _county_zero(record: KodaHendelse, _rng: random.Random) -> bytes:
    body = KodaLoslatelse("2026-12-14", "ENDT_STRAFF", None, "0012", (), ())
    return render(
        dataclasses.replace(record, hendelsestype="LOSLATELSE", status="PLANLAGT", body=body)
    )


def _unknown_code(record: KodaHendelse, _rng: random.Random) -> bytes:
    return render(dataclasses.replace(record, gjennomforingsform="FENGSEL_MIDDELS"))


def _truncated(record: KodaHendelse, rng: random.Random) -> bytes:
    # Cut between characters: a cut through "ø" would be an encoding fault instead.
    text = render(record).decode()
    return text[: rng.randrange(len(text) // 4, len(text) - 20)].encode()


def _other_namespace(record: KodaHendelse, _rng: random.Random) -> bytes:
    return render(record).replace(b"urn:no:kriminalomsorgen:koda:hendelse:v1", b"urn:example:x")


def _with_doctype(record: KodaHendelse, _rng: random.Random) -> bytes:
    declaration, rest = render(record).split(b"\n", 1)
    return declaration + b"\n<!DOCTYPE Hendelse>\n" + rest


def _latin1(record: KodaHendelse, _rng: random.Random) -> bytes:
    person = dataclasses.replace(record.person, fornavn="Bjørn")
    return render(dataclasses.replace(record, person=person)).replace(
        "ø".encode(), "ø".encode("latin-1")
    )


def _empty(_record: KodaHendelse, _rng: random.Random) -> bytes:
    return b""


_FAULTS: Final[tuple[tuple[Reason, _Spoiler], ...]] = (
    (Reason.INVALID_IDENTITY_NUMBER, _broken_check_digit),
    (Reason.SCHEMA_VIOLATION, _unknown_code),
    (Reason.INVALID_XML, _truncated),
    (Reason.BODY_MISMATCH, _wrong_body),
    (Reason.STATUS_NOT_ALLOWED, _wrong_status),
    (Reason.INVALID_DATE, _impossible_date),
    (Reason.INVALID_MUNICIPALITY_NUMBER, _county_zero),
    (Reason.WRONG_NAMESPACE, _other_namespace),
    (Reason.FORBIDDEN_DTD, _with_doctype),
    (Reason.INVALID_ENCODING, _latin1),
    (Reason.EMPTY_DOCUMENT, _empty),
)
