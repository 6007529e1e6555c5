"""Contract rules every adapter applies the same way, whatever the source format.

Schemas (XSD, JSON Schema) check shapes; these check meaning, each with its own reason code:
identity numbers (date part, check digits, kind, synthetic numbers only where allowed), real
and plausible dates and times, known codes, and whatever else the canonical models refuse.
pydantic's errors are translated here and go no further. Rejections name where in the source
document the rule failed, never the offending value.

A plausible date lies from 1900 to 100 years after today, and a time's UTC offset within
±14:00 (the widest any zone uses): anything else is a typing error or an attack, and would
reach recipients as nonsense.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final, TypeVar

from pydantic import ValidationError

from adapters.context import TranslationContext
from schemas.errors import InputRejected, Reason
from schemas.events import IDENTITY_CHECKED, IdentityKind, Person
from schemas.identity import check_identity_number
from schemas.ids import canonical_id
from schemas.validation import describe_errors

__all__ = [
    "build",
    "code",
    "person",
    "real_date",
    "real_timestamp",
    "replaced",
    "schema_violation",
]

_FIRST_YEAR: Final = 1900
_YEARS_AHEAD: Final = 100
_WIDEST_OFFSET: Final = dt.timedelta(hours=14)
_M = TypeVar("_M")
_E = TypeVar("_E", bound=StrEnum)


def build(model: type[_M], **fields: object) -> _M:
    """`model(**fields)`, or `InputRejected` (`schema_violation`) naming the field and rule."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise schema_violation(exc) from exc


def schema_violation(exc: ValidationError) -> InputRejected:
    described = describe_errors(exc, shown=1, title=exc.title)
    return InputRejected(described, reason=Reason.SCHEMA_VIOLATION)


def person(
    number: str,
    given_name: str,
    family_name: str,
    ctx: TranslationContext,
    *,
    declared: IdentityKind | None = None,
    where: str = "identity number",
) -> Person:
    """The canonical person; `declared` is the kind the source says the number is, if it says."""
    info = check_identity_number(number, allow_synthetic=ctx.allow_test_identities)
    if declared is not None and info.kind is not declared:
        raise InputRejected(
            f"{where} holds a {info.kind.value} number, not a {declared.value}",
            reason=Reason.INVALID_IDENTITY_NUMBER,
        )
    fields = {
        "identity_number": number,
        "identity_kind": info.kind,
        "given_name": given_name,
        "family_name": family_name,
    }
    try:
        # Checked just above, with the reasons a source is told: not once more in the model.
        return Person.model_validate(fields, context=IDENTITY_CHECKED)
    except ValidationError as exc:
        raise schema_violation(exc) from exc


def code(enum: type[_E], value: str, where: str) -> _E:
    try:
        return enum(value)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in enum)
        raise InputRejected(f"{where}: not a known code (one of {allowed})") from exc


def real_date(value: str, where: str) -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputRejected(f"{where} is not a calendar date", reason=Reason.INVALID_DATE) from exc
    _check_plausible(parsed, where)
    return parsed


def real_timestamp(value: str, where: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputRejected(
            f"{where} is not a real date and time", reason=Reason.INVALID_DATE
        ) from exc
    offset = parsed.utcoffset()
    if offset is None:
        raise InputRejected(f"{where} has no UTC offset", reason=Reason.INVALID_DATE)
    if abs(offset) > _WIDEST_OFFSET:
        raise InputRejected(f"{where} has a UTC offset beyond ±14:00", reason=Reason.INVALID_DATE)
    _check_plausible(parsed.date(), where)
    return parsed


def _check_plausible(day: dt.date, where: str) -> None:
    if day.year < _FIRST_YEAR:
        raise InputRejected(f"{where} is before {_FIRST_YEAR}", reason=Reason.INVALID_DATE)
    today = dt.datetime.now(dt.UTC).date()
    if day.year - today.year > _YEARS_AHEAD or (
        day.year - today.year == _YEARS_AHEAD and (day.month, day.day) > (today.month, today.day)
    ):
        raise InputRejected(
            f"{where} is more than {_YEARS_AHEAD} years ahead", reason=Reason.INVALID_DATE
        )


def replaced(source: str, own_id: str, replaces: str | None, where: str) -> str | None:
    """The canonical id of the source document `replaces` names, if it names one."""
    if replaces is None:
        return None
    if replaces == own_id:
        raise InputRejected(f"{where} names the document itself", reason=Reason.SCHEMA_VIOLATION)
    return canonical_id(source, replaces)
