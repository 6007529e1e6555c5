"""Building blocks shared by the event bodies: the model base, the person, the case, the unit."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.errors import InputRejected
from schemas.events.codes import ExecutionForm, Reaction
from schemas.identity import IdentityKind, identify, kind_of

__all__ = [
    "IDENTITY_CHECKED",
    "Case",
    "CaseNumber",
    "CorrectionalData",
    "EventModel",
    "FreeText",
    "IdentityNumber",
    "Person",
    "PersonName",
    "Unit",
    "UnitCode",
]


class EventModel(BaseModel):
    """Base of every canonical model: immutable, closed, and strict about types."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        # The published schemas describe what recipients receive, where defaults are present.
        json_schema_serialization_defaults_required=True,
    )


# The validation context of a value whose identity numbers were checked already, by the adapter
# that checked each before building the person, or by the hub itself when it wrote the event
# whose signature the caller verified: their date and check digits are not computed again (the
# bench counted 18 checks of one number on its way through the hub). Their shape still is.
IDENTITY_CHECKED: Final[Mapping[str, bool]] = MappingProxyType({"identity_checked": True})


def _valid_identity_number(number: str, info: ValidationInfo) -> str:
    if info.context is IDENTITY_CHECKED:
        return number
    try:
        identify(number)
    except InputRejected as exc:
        raise PydanticCustomError("invalid_identity_number", exc.detail) from exc
    return number


IdentityNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{11}$"),
    AfterValidator(_valid_identity_number),
]
# Any Unicode letter (with combining marks, for decomposed accents), inner spaces, hyphens and
# apostrophes; starts and ends with a letter.
PersonName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=100,
        pattern=r"^\p{L}\p{M}*(?:[\p{L}\p{M} '’-]*[\p{L}\p{M}])?$",  # noqa: RUF001 - the typographic apostrophe U+2019 is meant
    ),
]
CaseNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\p{L}\p{N}][\p{L}\p{N}/.-]*$")
]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,20}$")]
FreeText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Person(EventModel):
    # Kept out of repr so that printing an event never shows who it is about.
    identity_number: IdentityNumber = Field(repr=False)
    identity_kind: IdentityKind
    given_name: PersonName = Field(repr=False)
    family_name: PersonName = Field(repr=False)

    @model_validator(mode="after")
    def _kind_matches_number(self) -> Self:
        # Runs again wherever a person is nested, on a number its field has checked already.
        if kind_of(self.identity_number) is not self.identity_kind:
            raise PydanticCustomError(
                "identity_kind_mismatch", "identity_kind does not match the identity number"
            )
        return self


class Case(EventModel):
    case_number: CaseNumber
    reaction: Reaction
    offences: tuple[Annotated[str, StringConstraints(min_length=1, max_length=200)], ...] = Field(
        default=(), max_length=50
    )


class Unit(EventModel):
    """A unit of the correctional service: a prison, a department, a probation office."""

    code: UnitCode
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CorrectionalData(EventModel):
    """What every correctional-service event body says: who, which case, where and how."""

    person: Person
    case: Case
    unit: Unit
    execution_form: ExecutionForm
