"""A transfer between units or execution forms: planned, completed or cancelled (OVERFORING)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from schemas.events.codes import ExecutionForm
from schemas.events.envelope import Envelope
from schemas.events.parts import CorrectionalData, EventModel, FreeText, Unit
from schemas.identity import MunicipalityNumber

__all__ = [
    "Transfer",
    "TransferCancelled",
    "TransferCompleted",
    "TransferData",
    "TransferPlanned",
]


class Transfer(EventModel):
    date: dt.date
    to_unit: Unit
    to_execution_form: ExecutionForm
    reason: FreeText | None = None
    # Where the person will live in the new form (electronic monitoring, an institution, a
    # halfway house): the municipality to be told. Added after v1 was released, so optional.
    residence_municipality: MunicipalityNumber | None = None


class TransferData(CorrectionalData):
    transfer: Transfer


class TransferPlanned(Envelope):
    type: Literal["no.kriminalomsorgen.transfer.planned.v1"] = (
        "no.kriminalomsorgen.transfer.planned.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.transfer.planned.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.transfer.planned.v1"
    )
    data: TransferData


class TransferCompleted(Envelope):
    type: Literal["no.kriminalomsorgen.transfer.completed.v1"] = (
        "no.kriminalomsorgen.transfer.completed.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.transfer.completed.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.transfer.completed.v1"
    )
    data: TransferData


class TransferCancelled(Envelope):
    type: Literal["no.kriminalomsorgen.transfer.cancelled.v1"] = (
        "no.kriminalomsorgen.transfer.cancelled.v1"
    )
    dataschema: Literal["urn:no:justishub:schema:no.kriminalomsorgen.transfer.cancelled.v1"] = (
        "urn:no:justishub:schema:no.kriminalomsorgen.transfer.cancelled.v1"
    )
    data: TransferData
