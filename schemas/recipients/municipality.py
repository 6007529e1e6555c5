"""What the residence municipality may receive: a planned or completed release, with identity,
date, the releasing unit, and the needs the person consented to share with it. Never the
offence or the case."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from schemas.events.codes import Need, ReleaseKind
from schemas.identity import MunicipalityNumber
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import RecipientModel, RecipientPerson, RecipientUnit

__all__ = ["MunicipalityData", "MunicipalityMessage"]


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None
    residence_municipality: MunicipalityNumber | None = None
    needs: tuple[Need, ...] | None = None


class MunicipalityData(RecipientModel):
    person: RecipientPerson | None = None
    unit: RecipientUnit | None = None
    release: _Release | None = None


class MunicipalityMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.municipality.v1"] = (
        "urn:no:justishub:schema:recipient.municipality.v1"
    )
    data: MunicipalityData | None = None
