"""What NAV may receive: that a person went into prison or came out (remand custody included),
or changed execution form, with identity, dates and unit. Never the offence, the case, needs or
health."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from schemas.events.codes import CustodyOutcome, ExecutionForm, ReleaseKind
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.parts import RecipientModel, RecipientPerson, RecipientUnit, StartPart

__all__ = ["NavData", "NavMessage"]


class _Transfer(RecipientModel):
    date: dt.date | None = None
    to_unit: RecipientUnit | None = None
    to_execution_form: ExecutionForm | None = None


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None


class _Custody(RecipientModel):
    decided_at: dt.date | None = None
    facility: RecipientUnit | None = None
    ended_at: dt.datetime | None = None
    outcome: CustodyOutcome | None = None


class NavData(RecipientModel):
    person: RecipientPerson | None = None
    unit: RecipientUnit | None = None
    execution_form: ExecutionForm | None = None
    start: StartPart | None = None
    transfer: _Transfer | None = None
    release: _Release | None = None
    custody: _Custody | None = None


class NavMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.nav.v1"] = (
        "urn:no:justishub:schema:recipient.nav.v1"
    )
    data: NavData | None = None
