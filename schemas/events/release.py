"""A release: planned, completed or cancelled (LOSLATELSE), with where the person will live."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.codes import ConsentRecipient, Need, ReleaseKind
from schemas.events.envelope import Envelope
from schemas.events.parts import CorrectionalData, EventModel
from schemas.identity import MunicipalityNumber

__all__ = ["Release", "ReleaseCancelled", "ReleaseCompleted", "ReleaseData", "ReleasePlanned"]

# Parole periods are one to three years; ten is a generous bound against typos, not a rule.
_MAX_PROBATION_DAYS = 3650


class Release(EventModel):
    date: dt.date
    kind: ReleaseKind
    probation_days: Annotated[int, Field(ge=1, le=_MAX_PROBATION_DAYS)] | None = None
    residence_municipality: MunicipalityNumber | None = None
    # Empty means no consent: nothing beyond what the law itself allows may be shared.
    consent_recipients: tuple[ConsentRecipient, ...] = ()
    needs: tuple[Need, ...] = ()

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        if len(set(self.consent_recipients)) != len(self.consent_recipients):
            raise PydanticCustomError("repeated_value", "consent_recipients repeats a value")
        if len(set(self.needs)) != len(self.needs):
            raise PydanticCustomError("repeated_value", "needs repeats a value")
        return self


class ReleaseData(CorrectionalData):
    release: Release


class ReleasePlanned(Envelope):
    type: Literal["no.kriminalomsorgen.release.planned.v1"] = (
        "no.kriminalomsorgen.release.planned.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.release.planned.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.release.planned.v1"
    )
    data: ReleaseData


class ReleaseCompleted(Envelope):
    type: Literal["no.kriminalomsorgen.release.completed.v1"] = (
        "no.kriminalomsorgen.release.completed.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.release.completed.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.release.completed.v1"
    )
    data: ReleaseData


class ReleaseCancelled(Envelope):
    type: Literal["no.kriminalomsorgen.release.cancelled.v1"] = (
        "no.kriminalomsorgen.release.cancelled.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.release.cancelled.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.release.cancelled.v1"
    )
    data: ReleaseData
