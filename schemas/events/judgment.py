"""A judgment that has become final and is to be executed (rettskraftig dom). Source: the courts.

The sanction is either a length in days (with days of remand custody to deduct) or, for
preventive detention (FORVARING), a time frame and a minimum time in years.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.codes import Reaction
from schemas.events.envelope import Envelope
from schemas.events.parts import CaseNumber, EventModel, Person

__all__ = ["Judgment", "JudgmentFinal", "JudgmentFinalData", "Sanction"]

Offence = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Sanction(EventModel):
    reaction: Reaction
    days: int | None = Field(default=None, ge=1, le=21 * 366, description="Not for FORVARING.")
    remand_deduction_days: int | None = Field(
        default=None, ge=0, le=21 * 366, description="Days in remand custody to deduct."
    )
    frame_years: int | None = Field(
        default=None, ge=1, le=21, description="FORVARING only: the time frame (tidsramme)."
    )
    minimum_years: int | None = Field(
        default=None, ge=0, le=21, description="FORVARING only: the minimum time (minstetid)."
    )

    @model_validator(mode="after")
    def _length_fits_the_reaction(self) -> Self:
        if self.reaction is Reaction.FORVARING:
            if self.frame_years is None or self.minimum_years is None or self.days is not None:
                raise PydanticCustomError(
                    "sanction_length", "FORVARING has frame_years and minimum_years, not days"
                )
            if self.minimum_years > self.frame_years:
                raise PydanticCustomError("sanction_length", "minimum_years exceeds frame_years")
        elif self.days is None or self.frame_years is not None or self.minimum_years is not None:
            raise PydanticCustomError(
                "sanction_length", "only FORVARING has frame_years and minimum_years; others days"
            )
        return self


class Judgment(EventModel):
    court: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    case_number: CaseNumber
    pronounced_date: dt.date = Field(description="When the judgment was given (avsagt).")
    final_date: dt.date = Field(description="When it became final (rettskraftig).")
    sanction: Sanction
    offences: tuple[Offence, ...] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _final_after_pronounced(self) -> Self:
        if self.final_date < self.pronounced_date:
            raise PydanticCustomError("final_before_pronounced", "final_date before pronounced")
        return self


class JudgmentFinalData(EventModel):
    person: Person
    judgment: Judgment


class JudgmentFinal(Envelope):
    type: Literal["no.domstol.judgment.final.v1"] = "no.domstol.judgment.final.v1"
    dataschema: Literal["urn:no:justishub:schema:no.domstol.judgment.final.v1"] = (
        "urn:no:justishub:schema:no.domstol.judgment.final.v1"
    )
    data: JudgmentFinalData
