"""Valid canonical events of every type, built directly (not through an adapter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.events import (
    Case,
    Consent,
    ConsentData,
    ConsentRecipient,
    CustodyEnd,
    CustodyEndedData,
    CustodyExtendedData,
    CustodyExtension,
    CustodyOrder,
    CustodyOutcome,
    CustodyStartedData,
    Envelope,
    Escape,
    EscapeData,
    ExecutionForm,
    IdentityKind,
    Judgment,
    JudgmentFinalData,
    Need,
    Person,
    Reaction,
    Release,
    ReleaseData,
    ReleaseKind,
    Sanction,
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


def sample_data(family: str, action: str = "") -> Any:
    """A valid body for an event family: sentence, transfer, release, escape, custody (with the
    action: started, extended, ended), judgment or consent (to health services)."""
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
    if family == "custody":
        return _custody_data(action)
    if family == "consent":
        consent = Consent(recipients=(ConsentRecipient.HELSE,), source="BRIK")
        return ConsentData(person=_COMMON["person"], unit=_COMMON["unit"], consent=consent)
    if family == "judgment":
        sanction = Sanction(reaction=Reaction.FORVARING, frame_years=8, minimum_years=5)
        judgment = Judgment(
            court="Oslo tingrett",
            case_number="26-014512MED-TOSL/05",
            pronounced_date=dt.date(2026, 9, 30),
            final_date=dt.date(2026, 10, 21),
            sanction=sanction,
            offences=("Straffeloven § 274",),
        )
        return JudgmentFinalData(person=_COMMON["person"], judgment=judgment)
    escape = Escape(time=dt.datetime(2026, 7, 1, 22, 40, tzinfo=OSLO))
    return EscapeData(**_COMMON, escape=escape)


def _custody_data(action: str) -> Any:
    police = {
        "person": _COMMON["person"],
        "police_district": "Oslo",
        "case_reference": "14829311",
    }
    decision = {
        "decided_by": "Oslo tingrett",
        "decided_at": dt.date(2026, 11, 21),
        "until": dt.date(2026, 12, 19),
    }
    if action == "started":
        order = CustodyOrder(**decision, facility=Unit(code="0301", name="Oslo fengsel"))
        return CustodyStartedData(**police, custody=order)
    if action == "extended":
        return CustodyExtendedData(**police, custody=CustodyExtension(**decision))
    end = CustodyEnd(
        ended_at=dt.datetime(2026, 12, 1, 10, 0, tzinfo=OSLO),
        outcome=CustodyOutcome.SENTENCE_EXECUTION,
    )
    return CustodyEndedData(**police, custody=end)


def make_event(cls: type[Envelope], **overrides: Any) -> Any:
    """A valid event of class `cls`, with any attribute replaced by `overrides`."""
    family, action = cls.model_fields["type"].default.split(".")[2:4]
    fields: dict[str, Any] = {
        "id": canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-1"),
        "source": "urn:no:kriminalomsorgen:koda",
        "time": dt.datetime(2026, 11, 20, 9, 15, tzinfo=OSLO),
        "subject": "pk-0123456789abcdef0123456789abcdef",
        "correlationid": "corr-1",
        "sourceeventid": "KODA-TEST-1",
        "data": sample_data(family, action),
    }
    return cls(**{**fields, **overrides})
