"""Valid canonical events of every type, built directly (not through an adapter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.events import (
    Case,
    ConsentRecipient,
    Envelope,
    Escape,
    EscapeData,
    ExecutionForm,
    IdentityKind,
    Need,
    Person,
    Reaction,
    Release,
    ReleaseData,
    ReleaseKind,
    SentenceStart,
    SentenceStartedData,
    Transfer,
    TransferData,
    Unit,
)
from schemas.ids import canonical_id
from tests.identities import SYNTHETIC_FNR

__all__ = ["make_event", "sample_data"]

OSLO = dt.timezone(dt.timedelta(hours=1))
_COMMON: dict[str, Any] = {
    "person": Person(
        identity_number=SYNTHETIC_FNR,
        identity_kind=IdentityKind.FNR,
        given_name="Åse",
        family_name="Ødegård",
    ),
    "case": Case(
        case_number="26-014512MED-TOSL/05",
        reaction=Reaction.UBETINGET_FENGSEL,
        offences=("Straffeloven § 321",),
    ),
    "unit": Unit(code="1001", name="Agder fengsel, avdeling Froland"),
    "execution_form": ExecutionForm.FENGSEL_LAV,
}


def sample_data(family: str) -> Any:
    """A valid body for an event family: sentence, transfer, release or escape."""
    if family == "sentence":
        return SentenceStartedData(**_COMMON, start=SentenceStart(start_date=dt.date(2026, 1, 5)))
    if family == "transfer":
        to_unit = Unit(code="0301", name="Oslo fengsel")
        transfer = Transfer(
            date=dt.date(2026, 3, 1), to_unit=to_unit, to_execution_form=ExecutionForm.FENGSEL_HOY
        )
        return TransferData(**_COMMON, transfer=transfer)
    if family == "release":
        release = Release(
            date=dt.date(2026, 12, 14),
            kind=ReleaseKind.PROVELOSLATELSE,
            consent_recipients=(ConsentRecipient.KOMMUNE,),
            needs=(Need.BOLIG,),
        )
        return ReleaseData(**_COMMON, release=release)
    escape = Escape(time=dt.datetime(2026, 7, 1, 22, 40, tzinfo=OSLO))
    return EscapeData(**_COMMON, escape=escape)


def make_event(cls: type[Envelope], **overrides: Any) -> Any:
    """A valid event of class `cls`, with any attribute replaced by `overrides`."""
    family = cls.model_fields["type"].default.split(".")[2]
    fields: dict[str, Any] = {
        "id": canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-1"),
        "source": "urn:no:kriminalomsorgen:koda",
        "time": dt.datetime(2026, 11, 20, 9, 15, tzinfo=OSLO),
        "subject": "pk-0123456789abcdef0123456789abcdef",
        "correlationid": "corr-1",
        "sourceeventid": "KODA-TEST-1",
        "data": sample_data(family),
    }
    return cls(**{**fields, **overrides})
