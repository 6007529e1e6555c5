"""`CourtJudgment` → canonical event, with the contract rules the XSD cannot express.

Checked in this order, each with its own reason code:
  the sanction's length matches Reaksjon/@type              body_mismatch
  identity number: date part, check digits, element kind    invalid_identity_number
  synthetic test numbers only where allowed                 test_identity_not_allowed
  dates are real; Rettskraftig is not before Avsagt         invalid_date
  anything else the canonical models refuse                 schema_violation
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from adapters import rules
from adapters.context import TranslationContext
from adapters.court.record import CourtJudgment, CourtSanction
from schemas.errors import InputRejected, Reason
from schemas.events import (
    IdentityKind,
    Judgment,
    JudgmentFinal,
    JudgmentFinalData,
    Reaction,
    Sanction,
)
from schemas.ids import canonical_id

__all__ = ["SOURCE", "to_canonical"]

SOURCE: Final = "urn:no:domstol:lovisa"
# The document carries dates only: the event's time is the start of the day it became final,
# in Norway, where the courts are.
_COURTS_TIME_ZONE: Final = ZoneInfo("Europe/Oslo")
_KIND_OF: Final = {"Fodselsnummer": IdentityKind.FNR, "DNummer": IdentityKind.DNR}


def to_canonical(record: CourtJudgment, ctx: TranslationContext) -> JudgmentFinal:
    """The canonical event for `record`, or `InputRejected` naming the rule it breaks."""
    reaction = rules.code(Reaction, record.reaksjon.type, "Reaksjon/@type")
    _check_length_fits(reaction, record.reaksjon)
    domfelt = record.domfelt
    person = rules.person(
        domfelt.identitetsnummer,
        domfelt.fornavn,
        domfelt.etternavn,
        ctx,
        declared=_KIND_OF[domfelt.nummertype],
        where=f"Domfelt/{domfelt.nummertype}",
    )
    final_date = _dates_in_order(record)
    event_id = canonical_id(SOURCE, record.dom_id)
    try:
        return JudgmentFinal(
            id=event_id,
            source=SOURCE,
            time=dt.datetime.combine(final_date, dt.time(), tzinfo=_COURTS_TIME_ZONE),
            subject=ctx.person_key(domfelt.identitetsnummer),
            correlationid=ctx.correlation_id or event_id,
            sourceeventid=record.dom_id,
            replaces=rules.replaced(SOURCE, record.dom_id, record.erstatter, "Erstatter"),
            data=JudgmentFinalData(person=person, judgment=_judgment(record, reaction)),
        )
    except ValidationError as exc:
        raise rules.schema_violation(exc) from exc


def _check_length_fits(reaction: Reaction, sanction: CourtSanction) -> None:
    in_years = sanction.tidsramme_aar is not None
    if (reaction is Reaction.FORVARING) != in_years:
        expected = "Tidsramme and Minstetid" if reaction is Reaction.FORVARING else "Dager"
        raise InputRejected(
            f"Reaksjon type {reaction.value} must have {expected}", reason=Reason.BODY_MISMATCH
        )


def _dates_in_order(record: CourtJudgment) -> dt.date:
    pronounced = rules.real_date(record.avsagt, "Avsagt")
    final = rules.real_date(record.rettskraftig, "Rettskraftig")
    if final < pronounced:
        raise InputRejected("Rettskraftig is before Avsagt", reason=Reason.INVALID_DATE)
    return final


def _judgment(record: CourtJudgment, reaction: Reaction) -> Judgment:
    sanction = record.reaksjon
    return rules.build(
        Judgment,
        court=record.domstol,
        case_number=record.saksnummer,
        pronounced_date=rules.real_date(record.avsagt, "Avsagt"),
        final_date=rules.real_date(record.rettskraftig, "Rettskraftig"),
        sanction=rules.build(
            Sanction,
            reaction=reaction,
            days=sanction.dager,
            remand_deduction_days=sanction.varetektsfradrag,
            frame_years=sanction.tidsramme_aar,
            minimum_years=sanction.minstetid_aar,
        ),
        offences=record.lovbrudd,
    )
