"""What the correctional service's case system may receive: final judgments from the courts, in
full, to queue them for execution; and remand custody started, extended and ended from the
police, to place the person. Never health information, needs or consents."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import (
    RecipientCustody,
    RecipientJudgment,
    RecipientModel,
    RecipientPerson,
)

__all__ = ["CorrectionalData", "CorrectionalMessage"]


class CorrectionalData(RecipientModel):
    person: RecipientPerson | None = None
    judgment: RecipientJudgment | None = None
    police_district: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    case_reference: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    custody: RecipientCustody | None = None


class CorrectionalMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.correctional.v1"] = (
        "urn:no:justishub:schema:recipient.correctional.v1"
    )
    data: CorrectionalData | None = None
