"""What the person the events are about receives: a notice of a planned release, a planned
transfer or the end of remand custody (and their corrections and cancellations), for the unit to
hand over or the national digital mailbox to deliver.

Besides the facts of the event about the person themself, `notice` says it in plain Norwegian
(bokmål, or nynorsk): what will happen and when, which agencies were told and what each
received (in words, not codes), under which legal basis, and how to ask for insight or object.
It names no other person.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.events.codes import CustodyOutcome, ExecutionForm, ReleaseKind
from schemas.identity import MunicipalityNumber
from schemas.recipients.envelope import LegalBasis, RecipientEnvelope
from schemas.recipients.parts import RecipientModel, RecipientPerson, RecipientUnit

__all__ = ["NoticeLanguage", "PersonData", "PersonMessage", "PersonNotice", "ToldAgency"]

NoticeLanguage = Literal["nb", "nn"]
Sentence = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Words = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Release(RecipientModel):
    date: dt.date | None = None
    kind: ReleaseKind | None = None
    residence_municipality: MunicipalityNumber | None = None


class _Transfer(RecipientModel):
    date: dt.date | None = None
    to_unit: RecipientUnit | None = None
    to_execution_form: ExecutionForm | None = None
    residence_municipality: MunicipalityNumber | None = None


class _Custody(RecipientModel):
    ended_at: AwareDatetime | None = None
    outcome: CustodyOutcome | None = None
    facility: RecipientUnit | None = None


class ToldAgency(RecipientModel):
    """One agency the hub told about the same event, and what it received."""

    agency: Words = Field(description="The agency, in words.")
    received: tuple[Words, ...] = Field(min_length=1, description="What it received, in words.")
    legalbasis: LegalBasis


class PersonNotice(RecipientModel):
    """The notice as the person reads it."""

    language: NoticeLanguage = Field(description="nb: bokmål; nn: nynorsk.")
    title: Words
    what: Sentence = Field(description="What will happen, and when.")
    told: tuple[ToldAgency, ...] = Field(description="Every agency told, and what it received.")
    nobody_else: Sentence | None = Field(
        default=None, description="Said instead when no other agency was told."
    )
    basis: Sentence = Field(description="Why the person is told, and under which legal basis.")
    rights: Sentence = Field(description="How to ask for insight, correction, or object.")
    reference: Words = Field(description="What to quote when asking about this notice.")


class PersonData(RecipientModel):
    person: RecipientPerson | None = None
    unit: RecipientUnit | None = None
    release: _Release | None = None
    transfer: _Transfer | None = None
    custody: _Custody | None = None
    notice: PersonNotice | None = None


class PersonMessage(RecipientEnvelope):
    dataschema: Literal["urn:no:justishub:schema:recipient.person.v1"] = (
        "urn:no:justishub:schema:recipient.person.v1"
    )
    data: PersonData | None = None
