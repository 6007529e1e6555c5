"""What the residence municipality may receive: a planned or completed release, a transfer to a
form served outside prison (electronic monitoring, an institution, a halfway house), and the end
of remand custody in release, with identity, date, the unit, and the needs the person consented
to share with it. Never the offence or the case."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime

from schemas.events.codes import CustodyOutcome, ExecutionForm, Need, ReleaseKind
from schemas.identity import MunicipalityNumber
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import RecipientModel, RecipientPerson, RecipientUnit

__all__ = ["MunicipalityData", "MunicipalityMessage"]


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None
    residence_municipality: MunicipalityNumber | None = None
    needs: tuple[Need, ...] | None = None


class _Transfer(RecipientModel):
    date: dt.date | None = None
    to_unit: RecipientUnit | None = None
    to_execution_form: ExecutionForm | None = None
    residence_municipality: MunicipalityNumber | None = None


class _Custody(RecipientModel):
    ended_at: AwareDatetime | None = None
    outcome: CustodyOutcome | None = None
    facility: RecipientUnit | None = None


class MunicipalityData(RecipientModel):
    person: RecipientPerson | None = None
    unit: RecipientUnit | None = None
    release: _Release | None = None
    # Added after v1 was released: transfers and the end of remand custody reach it too.
    transfer: _Transfer | None = None
    custody: _Custody | None = None
    residence_municipality: MunicipalityNumber | None = None


class MunicipalityMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.municipality.v1"] = (
        "urn:no:justishub:schema:recipient.municipality.v1"
    )
    data: MunicipalityData | None = None
