"""`PoliceCustodyEvent` → canonical event, with the contract rules the JSON Schema cannot express.

Checked as the event is built, each with its own reason code:
  identity number: date part, check digits                  invalid_identity_number
  synthetic test numbers only where allowed                 test_identity_not_allowed
  dates and times are real                                  invalid_date
  `until` is not before `decidedAt`                         invalid_date
  residence municipality: no county 00                      invalid_municipality_number
  anything else the canonical models refuse (names, ...)    schema_violation
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

from adapters import rules
from adapters.context import TranslationContext
from adapters.police.record import PoliceCustody, PoliceCustodyEvent, PoliceFacility
from schemas.errors import InputRejected, Reason
from schemas.events import (
    CanonicalEvent,
    CustodyEnd,
    CustodyEnded,
    CustodyEndedData,
    CustodyExtended,
    CustodyExtendedData,
    CustodyExtension,
    CustodyOrder,
    CustodyOutcome,
    CustodyStarted,
    CustodyStartedData,
    Person,
    PoliceData,
    Unit,
)
from schemas.identity import check_municipality_number
from schemas.ids import canonical_id

__all__ = ["SOURCE", "to_canonical"]

SOURCE: Final = "urn:no:politiet:varetekt"


def to_canonical(record: PoliceCustodyEvent, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event for `record`, or `InputRejected` naming the rule it breaks."""
    event_id = canonical_id(SOURCE, record.event_id)
    person = rules.person(
        record.person.national_id,
        record.person.first_name,
        record.person.last_name,
        ctx,
        where="$.person.nationalId",
    )
    envelope = {
        "id": event_id,
        "source": SOURCE,
        "time": rules.real_timestamp(record.occurred_at, "$.occurredAt"),
        "subject": ctx.person_key(record.person.national_id),
        "correlationid": ctx.correlation_id or event_id,
        "sourceeventid": record.event_id,
        "replaces": rules.replaced(SOURCE, record.event_id, record.replaces, "$.replaces"),
    }
    try:
        return _event(record, person, envelope)
    except ValidationError as exc:
        raise rules.schema_violation(exc) from exc


def _event(
    record: PoliceCustodyEvent, person: Person, envelope: dict[str, object]
) -> CanonicalEvent:
    common: dict[str, object] = {
        "person": person,
        "police_district": record.police_district,
        "case_reference": record.case_reference,
        "residence_municipality": _municipality(record.person.residence_municipality),
    }
    custody = record.custody
    if record.event_type == "CUSTODY_STARTED":
        data: PoliceData = rules.build(CustodyStartedData, **common, custody=_order(custody))
        return CustodyStarted(**envelope, data=data)  # type: ignore[arg-type]  # envelope holds the Envelope's fields, checked by pydantic
    if record.event_type == "CUSTODY_EXTENDED":
        data = rules.build(CustodyExtendedData, **common, custody=_extension(custody))
        return CustodyExtended(**envelope, data=data)  # type: ignore[arg-type]  # as above
    data = rules.build(CustodyEndedData, **common, custody=_end(custody))
    return CustodyEnded(**envelope, data=data)  # type: ignore[arg-type]  # as above


def _decision(custody: PoliceCustody) -> dict[str, object]:
    # The schema requires these three for the event types that carry a decision.
    decided_at = rules.real_date(custody.decided_at or "", "$.custody.decidedAt")
    until = rules.real_date(custody.until or "", "$.custody.until")
    if until < decided_at:
        raise InputRejected(
            "$.custody.until is before $.custody.decidedAt", reason=Reason.INVALID_DATE
        )
    return {"decided_by": custody.decided_by, "decided_at": decided_at, "until": until}


def _order(custody: PoliceCustody) -> CustodyOrder:
    return rules.build(CustodyOrder, **_decision(custody), facility=_facility(custody.facility))


def _extension(custody: PoliceCustody) -> CustodyExtension:
    return rules.build(CustodyExtension, **_decision(custody), facility=_facility(custody.facility))


def _end(custody: PoliceCustody) -> CustodyEnd:
    return rules.build(
        CustodyEnd,
        ended_at=rules.real_timestamp(custody.ended_at or "", "$.custody.endedAt"),
        outcome=rules.code(CustodyOutcome, custody.outcome or "", "$.custody.outcome"),
        facility=_facility(custody.facility),
    )


def _municipality(number: str | None) -> str | None:
    return None if number is None else check_municipality_number(number)


def _facility(facility: PoliceFacility | None) -> Unit | None:
    return None if facility is None else rules.build(Unit, code=facility.code, name=facility.name)
