"""What the police register (Kripos, SSP) may receive: every sentence-execution event in full,
remand custody and final judgments, except the person's needs and consents, which are for
welfare and health services only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from schemas.events.codes import ExecutionForm, ReleaseKind
from schemas.events.parts import FreeText
from schemas.identity import MunicipalityNumber
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import (
    RecipientCase,
    RecipientCustody,
    RecipientEscape,
    RecipientJudgment,
    RecipientModel,
    RecipientPerson,
    RecipientUnit,
    StartPart,
)

__all__ = ["PoliceRegisterData", "PoliceRegisterMessage"]


class _Transfer(RecipientModel):
    date: dt.date | None = None
    to_unit: RecipientUnit | None = None
    to_execution_form: ExecutionForm | None = None
    reason: FreeText | None = None
    residence_municipality: MunicipalityNumber | None = None


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None
    probation_days: Annotated[int, Field(ge=1)] | None = None
    residence_municipality: MunicipalityNumber | None = None


class PoliceRegisterData(RecipientModel):
    person: RecipientPerson | None = None
    case: RecipientCase | None = None
    unit: RecipientUnit | None = None
    execution_form: ExecutionForm | None = None
    start: StartPart | None = None
    transfer: _Transfer | None = None
    release: _Release | None = None
    escape: RecipientEscape | None = None
    police_district: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    case_reference: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    custody: RecipientCustody | None = None
    judgment: RecipientJudgment | None = None


class PoliceRegisterMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.police-register.v1"] = (
        "urn:no:justishub:schema:recipient.police-register.v1"
    )
    data: PoliceRegisterData | None = None
