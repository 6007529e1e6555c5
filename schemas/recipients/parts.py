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

from schemas.events.codes import CustodyOutcome, Reaction
from schemas.events.parts import CaseNumber, FreeText, IdentityNumber, PersonName, UnitCode
from schemas.identity import IdentityKind

__all__ = [
    "RecipientCase",
    "RecipientCustody",
    "RecipientEscape",
    "RecipientJudgment",
    "RecipientModel",
    "RecipientPerson",
    "RecipientSanction",
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


class RecipientCustody(RecipientModel):
    """Remand custody as the police reported it: the decision, or how it ended."""

    decided_by: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    decided_at: dt.date | None = None
    until: dt.date | None = None
    facility: RecipientUnit | None = None
    ended_at: AwareDatetime | None = None
    outcome: CustodyOutcome | None = None


class RecipientSanction(RecipientModel):
    reaction: Reaction | None = None
    days: int | None = None
    remand_deduction_days: int | None = None
    frame_years: int | None = None
    minimum_years: int | None = None


class RecipientJudgment(RecipientModel):
    """A final judgment to be executed, as the court reported it."""

    court: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    case_number: CaseNumber | None = None
    pronounced_date: dt.date | None = None
    final_date: dt.date | None = None
    sanction: RecipientSanction | None = None
    offences: tuple[Annotated[str, StringConstraints(min_length=1, max_length=200)], ...] | None = (
        None
    )
