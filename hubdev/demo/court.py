"""Court final judgments for samples, tests and the benchmark: render a record, generate traffic.

`render` is the inverse of `adapters.court.parse`; it writes whatever the record holds, valid or
not, so that the generators can make invalid documents from records too. The same seed always
gives the same documents; every identity number is synthetic (month + 80).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections.abc import Callable
from typing import Final

from lxml import etree

from adapters.court.reader import NAMESPACE
from adapters.court.record import CourtJudgment, CourtPerson, CourtSanction
from hubdev.demo.synthetic import SyntheticDocument, seeded, synthetic_person
from schemas.errors import Reason

__all__ = ["invalid_documents", "render", "valid_documents", "valid_records"]

_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# lxml takes the prefix None for the default namespace; lxml-stubs 0.5.1 only allows str keys.
_DEFAULT_NAMESPACE: Final = {None: NAMESPACE}
_COURTS: Final = (
    ("Oslo tingrett", "TOSL"),
    ("Bergen tingrett", "TBER"),
    ("Trøndelag tingrett", "TTRO"),
    ("Agder tingrett", "TAGD"),
    ("Borgarting lagmannsrett", "LB"),
)
_OFFENCES: Final = (
    "Straffeloven § 321",
    "Straffeloven § 322",
    "Straffeloven § 231",
    "Straffeloven § 271",
    "Straffeloven § 274",
    "Vegtrafikkloven § 31",
)
_EPOCH: Final = dt.date(2026, 1, 5)


def render(record: CourtJudgment) -> bytes:
    """The final-judgment XML document of `record`, UTF-8, indented."""
    person = record.domfelt
    root = _el(
        "RettskraftigDom",
        _el("DomId", record.dom_id),
        _el("Saksnummer", record.saksnummer),
        _el("Domstol", record.domstol),
        _el("Avsagt", record.avsagt),
        _el("Rettskraftig", record.rettskraftig),
        _el(
            "Domfelt",
            _el(person.nummertype, person.identitetsnummer),
            _el("Fornavn", person.fornavn),
            _el("Etternavn", person.etternavn),
        ),
        _sanction(record.reaksjon),
        *(_el("Lovbrudd", paragraf=offence) for offence in record.lovbrudd),
        *([] if record.erstatter is None else [_el("Erstatter", record.erstatter)]),
    )
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def valid_records(count: int, *, seed: int = 0) -> list[CourtJudgment]:
    """`count` valid judgments, one person each, in the order they became final."""
    rng = seeded(seed)
    final = _EPOCH
    records = []
    for n in itertools.islice(itertools.count(1), count):
        final += dt.timedelta(days=rng.randrange(0, 3))
        records.append(_judgment(rng, f"DOM{seed}-{n:07d}", final))
    return records


def valid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    return [_document(r, render(r)) for r in valid_records(count, seed=seed)]


def invalid_documents(count: int, *, seed: int = 0) -> list[SyntheticDocument]:
    """`count` invalid documents, cycling through kinds of fault, each with its reason."""
    bases = valid_records(count, seed=-1 - seed)  # another seed space: other DomIds
    documents = []
    for n, base in enumerate(bases):
        reason, spoil = _FAULTS[n % len(_FAULTS)]
        record = dataclasses.replace(base, dom_id=f"DOMX{seed}-{n + 1:06d}")
        documents.append(_document(record, spoil(record), reason))
    return documents


def _judgment(rng: random.Random, dom_id: str, final: dt.date) -> CourtJudgment:
    court, code = rng.choice(_COURTS)
    person = synthetic_person(rng)
    pronounced = final - dt.timedelta(days=rng.randrange(14, 60))
    number = (
        f"{final.year % 100}-{rng.randrange(10_000, 999_999):06d}MED-{code}/0{rng.randrange(1, 9)}"
    )
    return CourtJudgment(
        dom_id=dom_id,
        saksnummer=number,
        domstol=court,
        avsagt=pronounced.isoformat(),
        rettskraftig=final.isoformat(),
        domfelt=CourtPerson(
            person.identitetsnummer, person.nummertype, person.fornavn, person.etternavn
        ),
        reaksjon=_random_sanction(rng),
        lovbrudd=tuple(rng.sample(_OFFENCES, rng.randrange(1, 4))),
    )


def _random_sanction(rng: random.Random) -> CourtSanction:
    kind = rng.choices(
        ("UBETINGET_FENGSEL", "FORVARING", "SAMFUNNSSTRAFF", "BOTETJENESTE"), weights=(75, 3, 15, 7)
    )[0]
    deduction = rng.choice((None, None, rng.randrange(1, 200)))
    if kind == "FORVARING":
        frame = rng.randrange(5, 16)
        return CourtSanction(kind, None, frame, rng.randrange(1, frame), deduction)
    return CourtSanction(kind, rng.randrange(14, 2000), None, None, deduction)


def _document(record: CourtJudgment, raw: bytes, reason: Reason | None = None) -> SyntheticDocument:
    return SyntheticDocument(raw, record.dom_id, record.domfelt.identitetsnummer, reason)


def _sanction(sanction: CourtSanction) -> etree._Element:
    parts: list[etree._Element] = []
    if sanction.dager is not None:
        parts.append(_el("Dager", str(sanction.dager)))
    if sanction.tidsramme_aar is not None:
        parts.append(_el("Tidsramme", aar=str(sanction.tidsramme_aar)))
    if sanction.minstetid_aar is not None:
        parts.append(_el("Minstetid", aar=str(sanction.minstetid_aar)))
    if sanction.varetektsfradrag is not None:
        parts.append(_el("Varetektsfradrag", str(sanction.varetektsfradrag)))
    return _el("Reaksjon", *parts, type=sanction.type)


def _el(tag: str, *content: etree._Element | str, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{NAMESPACE}}}{tag}", attributes, nsmap=_DEFAULT_NAMESPACE)  # type: ignore[arg-type]  # see _DEFAULT_NAMESPACE
    for part in content:
        if isinstance(part, str):
            element.text = part
        else:
            element.append(part)
    return element


# Kinds of invalid document: what each should be refused with, and how to make one.

_Spoiler = Callable[[CourtJudgment], bytes]


def _broken_check_digit(record: CourtJudgment) -> bytes:
    number = record.domfelt.identitetsnummer
    person = dataclasses.replace(
        record.domfelt, identitetsnummer=number[:10] + str((int(number[10]) + 1) % 10)
    )
    return render(dataclasses.replace(record, domfelt=person))


def _forvaring_in_days(record: CourtJudgment) -> bytes:
    sanction = CourtSanction("FORVARING", 2920)
    return render(dataclasses.replace(record, reaksjon=sanction))


def _days_and_years(record: CourtJudgment) -> bytes:
    return render(
        dataclasses.replace(record, reaksjon=CourtSanction("UBETINGET_FENGSEL", 90, 8, 5))
    )


def _final_before_pronounced(record: CourtJudgment) -> bytes:
    return render(dataclasses.replace(record, avsagt="2026-06-10", rettskraftig="2026-06-01"))


def _impossible_date(record: CourtJudgment) -> bytes:
    return render(dataclasses.replace(record, rettskraftig="2026-02-30"))


def _unknown_reaction(record: CourtJudgment) -> bytes:
    sanction = dataclasses.replace(record.reaksjon, type="DODSSTRAFF")
    return render(dataclasses.replace(record, reaksjon=sanction))


def _no_offence(record: CourtJudgment) -> bytes:
    return render(dataclasses.replace(record, lovbrudd=()))


def _truncated(record: CourtJudgment) -> bytes:
    text = render(record).decode()
    return text[: len(text) // 2].encode()


def _other_namespace(record: CourtJudgment) -> bytes:
    return render(record).replace(NAMESPACE.encode(), b"urn:example:x")


def _with_doctype(record: CourtJudgment) -> bytes:
    declaration, rest = render(record).split(b"\n", 1)
    return declaration + b"\n<!DOCTYPE RettskraftigDom>\n" + rest


def _latin1(record: CourtJudgment) -> bytes:
    return render(dataclasses.replace(record, domstol="Trøndelag tingrett")).replace(
        "ø".encode(), "ø".encode("latin-1")
    )


def _empty(_record: CourtJudgment) -> bytes:
    return b"  \n"


_FAULTS: Final[tuple[tuple[Reason, _Spoiler], ...]] = (
    (Reason.INVALID_IDENTITY_NUMBER, _broken_check_digit),
    (Reason.BODY_MISMATCH, _forvaring_in_days),
    (Reason.SCHEMA_VIOLATION, _days_and_years),
    (Reason.INVALID_DATE, _final_before_pronounced),
    (Reason.INVALID_DATE, _impossible_date),
    (Reason.SCHEMA_VIOLATION, _unknown_reaction),
    (Reason.SCHEMA_VIOLATION, _no_offence),
    (Reason.INVALID_XML, _truncated),
    (Reason.WRONG_NAMESPACE, _other_namespace),
    (Reason.FORBIDDEN_DTD, _with_doctype),
    (Reason.INVALID_ENCODING, _latin1),
    (Reason.EMPTY_DOCUMENT, _empty),
)
