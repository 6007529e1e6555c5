"""An escape or absconding reported (UNNVIKELSE). For the police only."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from schemas.events.envelope import Envelope
from schemas.events.parts import CorrectionalData, EventModel, FreeText

__all__ = ["Escape", "EscapeData", "EscapeReported"]


class Escape(EventModel):
    time: AwareDatetime
    description: FreeText | None = None


class EscapeData(CorrectionalData):
    escape: Escape


class EscapeReported(Envelope):
    type: Literal["no.kriminalomsorgen.escape.reported.v1"] = (
        "no.kriminalomsorgen.escape.reported.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.escape.reported.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.escape.reported.v1"
    )
    data: EscapeData
