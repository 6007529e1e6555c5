"""What health services may receive, with the person's consent only: planned and completed
releases and transfers, with identity, dates, the receiving unit and the needs. Never the
offence or the case."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from schemas.events.codes import ExecutionForm, Need, ReleaseKind
from schemas.identity import MunicipalityNumber
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import RecipientModel, RecipientPerson, RecipientUnit

__all__ = ["HealthData", "HealthMessage"]


class _Transfer(RecipientModel):
    date: dt.date | None = None
    to_unit: RecipientUnit | None = None
    to_execution_form: ExecutionForm | None = None


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None
    residence_municipality: MunicipalityNumber | None = None
    needs: tuple[Need, ...] | None = None


class HealthData(RecipientModel):
    person: RecipientPerson | None = None
    unit: RecipientUnit | None = None
    transfer: _Transfer | None = None
    release: _Release | None = None


class HealthMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.health.v1"] = (
        "urn:no:justishub:schema:recipient.health.v1"
    )
    data: HealthData | None = None
