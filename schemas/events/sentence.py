"""A person starts serving a sentence (source: IVERKSETTELSE)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from schemas.events.envelope import Envelope
from schemas.events.parts import CorrectionalData, EventModel

__all__ = ["SentenceStart", "SentenceStarted", "SentenceStartedData"]


class SentenceStart(EventModel):
    start_date: dt.date
    expected_release_date: dt.date | None = None


class SentenceStartedData(CorrectionalData):
    start: SentenceStart


class SentenceStarted(Envelope):
    type: Literal["no.kriminalomsorgen.sentence.started.v1"] = (
        "no.kriminalomsorgen.sentence.started.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.sentence.started.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.sentence.started.v1"
    )
    data: SentenceStartedData
