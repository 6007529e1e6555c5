"""Remand custody (varetektsfengsling) started, extended or ended. Source: the police.

Each event says who, which police case, and the custody decision it reports. The court that
decided custody is named in text: the police system does not send a court code.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.codes import CustodyOutcome
from schemas.events.envelope import Envelope
from schemas.events.parts import CaseNumber, EventModel, Person, Unit
from schemas.identity import MunicipalityNumber

__all__ = [
    "CustodyEnd",
    "CustodyEnded",
    "CustodyEndedData",
    "CustodyExtended",
    "CustodyExtendedData",
    "CustodyExtension",
    "CustodyOrder",
    "CustodyStarted",
    "CustodyStartedData",
    "PoliceData",
]

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PoliceData(EventModel):
    """What every police custody event body says: who, and which police case."""

    person: Person
    police_district: ShortText = Field(description="The police district that holds the case.")
    case_reference: CaseNumber = Field(description="The police's own case reference.")
    residence_municipality: MunicipalityNumber | None = Field(
        default=None,
        description="Where the person lives, when the police know it: told of a release.",
    )


class _Decision(EventModel):
    decided_by: ShortText = Field(description="The court that decided custody, as named.")
    decided_at: dt.date
    until: dt.date = Field(description="Custody lasts until this day unless extended or ended.")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.until < self.decided_at:
            raise PydanticCustomError("until_before_decision", "until is before decided_at")
        return self


class CustodyOrder(_Decision):
    """The court's first custody order."""

    facility: Unit = Field(description="Where the person is held.")


class CustodyExtension(_Decision):
    """A later order that moves `until`."""

    facility: Unit | None = None


class CustodyEnd(EventModel):
    ended_at: AwareDatetime
    outcome: CustodyOutcome
    facility: Unit | None = Field(default=None, description="Where the person was held.")


class CustodyStartedData(PoliceData):
    custody: CustodyOrder


class CustodyExtendedData(PoliceData):
    custody: CustodyExtension


class CustodyEndedData(PoliceData):
    custody: CustodyEnd


class CustodyStarted(Envelope):
    type: Literal["no.politiet.custody.started.v1"] = "no.politiet.custody.started.v1"
    dataschema: Literal["urn:no:justishub:schema:no.politiet.custody.started.v1"] = (
        "urn:no:justishub:schema:no.politiet.custody.started.v1"
    )
    data: CustodyStartedData


class CustodyExtended(Envelope):
    type: Literal["no.politiet.custody.extended.v1"] = "no.politiet.custody.extended.v1"
    dataschema: Literal["urn:no:justishub:schema:no.politiet.custody.extended.v1"] = (
        "urn:no:justishub:schema:no.politiet.custody.extended.v1"
    )
    data: CustodyExtendedData


class CustodyEnded(Envelope):
    type: Literal["no.politiet.custody.ended.v1"] = "no.politiet.custody.ended.v1"
    dataschema: Literal["urn:no:justishub:schema:no.politiet.custody.ended.v1"] = (
        "urn:no:justishub:schema:no.politiet.custody.ended.v1"
    )
    data: CustodyEndedData
