"""The courts' final-judgment XML as it is: a typed record of one document, in its own terms.

Values are kept as the source wrote them (codes and dates as text); what they mean, and whether
they are acceptable beyond the XSD, is decided in `adapters.court.mapper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CourtJudgment", "CourtPerson", "CourtSanction"]


@dataclass(frozen=True, slots=True)
class CourtPerson:
    # Out of repr so that a logged or printed record does not show who it is about.
    identitetsnummer: str = field(repr=False)
    nummertype: Literal["Fodselsnummer", "DNummer"]
    fornavn: str = field(repr=False)
    etternavn: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CourtSanction:
    """`<Reaksjon>`: days, or (FORVARING) a time frame and a minimum time in years."""

    type: str
    dager: int | None = None
    tidsramme_aar: int | None = None
    minstetid_aar: int | None = None
    varetektsfradrag: int | None = None


@dataclass(frozen=True, slots=True)
class CourtJudgment:
    """One `<RettskraftigDom>` document."""

    dom_id: str
    saksnummer: str
    domstol: str
    avsagt: str
    rettskraftig: str
    domfelt: CourtPerson
    reaksjon: CourtSanction
    lovbrudd: tuple[str, ...]
    # Optional (added after v1): the DomId of the document this one corrects.
    erstatter: str | None = None
