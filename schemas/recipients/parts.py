"""Building blocks of the recipient messages' data.

Every member is optional: the policy's allow-list decides which a recipient gets, and each
recipient's model (in its own module) lists only what that recipient may ever receive. A member
a model lacks cannot be sent to that recipient, whatever the policy says: the hub checks the
policy against these models at start-up, and the model refuses unknown members at run time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.events.codes import Reaction
from schemas.events.parts import CaseNumber, FreeText, IdentityNumber, PersonName, UnitCode
from schemas.identity import IdentityKind

__all__ = [
    "RecipientCase",
    "RecipientEscape",
    "RecipientModel",
    "RecipientPerson",
    "RecipientUnit",
    "StartPart",
]


class RecipientModel(BaseModel):
    """Base of every recipient model: immutable, closed, and strict about types."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class RecipientPerson(RecipientModel):
    identity_number: IdentityNumber | None = Field(default=None, repr=False)
    identity_kind: IdentityKind | None = None
    given_name: PersonName | None = Field(default=None, repr=False)
    family_name: PersonName | None = Field(default=None, repr=False)


class RecipientUnit(RecipientModel):
    code: UnitCode | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class RecipientCase(RecipientModel):
    case_number: CaseNumber | None = None
    reaction: Reaction | None = None
    offences: tuple[Annotated[str, StringConstraints(min_length=1, max_length=200)], ...] | None = (
        None
    )


class StartPart(RecipientModel):
    start_date: dt.date | None = None
    expected_release_date: dt.date | None = None


class RecipientEscape(RecipientModel):
    time: AwareDatetime | None = None
    description: FreeText | None = None
