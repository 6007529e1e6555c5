"""The police custody JSON as it is: a typed record of one source document, in the source's terms.

Values are kept as the source wrote them (codes and dates as text): what they mean, and whether
they are acceptable beyond the JSON Schema, is decided in `adapters.police.mapper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PoliceCustody", "PoliceCustodyEvent", "PoliceFacility", "PolicePerson"]


@dataclass(frozen=True, slots=True)
class PolicePerson:
    # Out of repr so that a logged or printed record does not show who it is about.
    national_id: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    # Optional in the format (added after v1): the municipality to tell of a release.
    residence_municipality: str | None = None


@dataclass(frozen=True, slots=True)
class PoliceFacility:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PoliceCustody:
    """`custody`: which fields are present depends on the event type (the schema says which)."""

    decided_by: str | None = None
    decided_at: str | None = None
    until: str | None = None
    facility: PoliceFacility | None = None
    ended_at: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class PoliceCustodyEvent:
    """One police custody document."""

    event_id: str
    event_type: str
    occurred_at: str
    police_district: str
    case_reference: str
    person: PolicePerson
    custody: PoliceCustody
    # Optional (added after v1): the eventId of the document this one corrects.
    replaces: str | None = None
