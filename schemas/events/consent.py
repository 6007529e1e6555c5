"""Consent to share needs information given or withdrawn (SAMTYKKE), as collected in BRIK.

Consent is not a tick in a release form: it is given and withdrawn, may expire, and the hub
keeps each person's consent as it stands (see `hub.routing.consent`). A release that carries
consent still counts as consent given then.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.codes import ConsentRecipient
from schemas.events.envelope import Envelope
from schemas.events.parts import EventModel, Person, Unit

__all__ = ["Consent", "ConsentData", "ConsentGiven", "ConsentWithdrawn"]


class Consent(EventModel):
    recipients: tuple[ConsentRecipient, ...] = Field(
        min_length=1, description="Whom the consent (or its withdrawal) is about."
    )
    source: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_-]{1,20}$")] = Field(
        description="Where the consent was collected, e.g. BRIK."
    )
    valid_until: dt.date | None = Field(
        default=None, description="The last day the consent holds; none: until withdrawn."
    )

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        if len(set(self.recipients)) != len(self.recipients):
            raise PydanticCustomError("repeated_value", "recipients repeats a value")
        return self


class ConsentData(EventModel):
    person: Person
    unit: Unit
    consent: Consent


class ConsentGiven(Envelope):
    type: Literal["no.kriminalomsorgen.consent.given.v1"] = "no.kriminalomsorgen.consent.given.v1"
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.consent.given.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.consent.given.v1"
    )
    data: ConsentData


class ConsentWithdrawn(Envelope):
    type: Literal["no.kriminalomsorgen.consent.withdrawn.v1"] = (
        "no.kriminalomsorgen.consent.withdrawn.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.consent.withdrawn.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.consent.withdrawn.v1"
    )
    data: ConsentData
