"""Raw police custody JSON → `PoliceCustodyEvent`, through the shared JSON gate."""

from __future__ import annotations

import functools
from typing import Any

from adapters.context import TranslationContext
from adapters.json_gate import JsonGate
from adapters.police.record import PoliceCustody, PoliceCustodyEvent, PoliceFacility, PolicePerson
from schemas.sources import POLICE_CUSTODY_V1

__all__ = ["parse"]


def parse(raw: bytes, ctx: TranslationContext) -> PoliceCustodyEvent:
    """The record of one police custody document, or `InputRejected` from the gate."""
    document = _gate().check(raw, max_bytes=ctx.max_document_bytes)
    # The schema has been checked: every required field is there, with the right type.
    person, custody = document["person"], document["custody"]
    return PoliceCustodyEvent(
        event_id=document["eventId"],
        event_type=document["eventType"],
        occurred_at=document["occurredAt"],
        police_district=document["policeDistrict"],
        case_reference=document["caseReference"],
        person=PolicePerson(
            person["nationalId"],
            person["firstName"],
            person["lastName"],
            person.get("residenceMunicipality"),
        ),
        custody=_custody(custody),
        replaces=document.get("replaces"),
    )


@functools.cache
def _gate() -> JsonGate:
    # Loaded on first use, once per process: importing the adapter does no I/O.
    return JsonGate(POLICE_CUSTODY_V1)


def _custody(custody: dict[str, Any]) -> PoliceCustody:
    facility = custody.get("facility")
    return PoliceCustody(
        decided_by=custody.get("decidedBy"),
        decided_at=custody.get("decidedAt"),
        until=custody.get("until"),
        facility=None if facility is None else PoliceFacility(facility["code"], facility["name"]),
        ended_at=custody.get("endedAt"),
        outcome=custody.get("outcome"),
    )
