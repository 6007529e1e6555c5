"""Code lists of the canonical events.

The values are the source system's own codes, kept as they are: recipients already know them,
and a translation table would be one more thing to get wrong. Never rename a value; add new ones.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ConsentRecipient",
    "CustodyOutcome",
    "ExecutionForm",
    "Need",
    "Reaction",
    "ReleaseKind",
]


class Reaction(StrEnum):
    """The criminal sanction being executed."""

    UBETINGET_FENGSEL = "UBETINGET_FENGSEL"  # unconditional prison sentence
    FORVARING = "FORVARING"  # preventive detention
    VARETEKT = "VARETEKT"  # remand custody
    SAMFUNNSSTRAFF = "SAMFUNNSSTRAFF"  # community sentence
    BOTETJENESTE = "BOTETJENESTE"  # community service instead of an unpaid fine


class ExecutionForm(StrEnum):
    """Where and how the sentence is served."""

    FENGSEL_HOY = "FENGSEL_HOY"  # prison, high security
    FENGSEL_LAV = "FENGSEL_LAV"  # prison, low security
    OVERGANGSBOLIG = "OVERGANGSBOLIG"  # halfway house
    ELEKTRONISK_KONTROLL = "ELEKTRONISK_KONTROLL"  # electronic monitoring (§ 16)
    INSTITUSJON = "INSTITUSJON"  # treatment institution (§ 12)
    SAMFUNN = "SAMFUNN"  # in the community


class ReleaseKind(StrEnum):
    ENDT_STRAFF = "ENDT_STRAFF"  # sentence served
    PROVELOSLATELSE = "PROVELOSLATELSE"  # parole
    ENDT_VARETEKT = "ENDT_VARETEKT"  # end of remand custody
    BENADNING = "BENADNING"  # pardon
    UTVISNING = "UTVISNING"  # expulsion from the country


class ConsentRecipient(StrEnum):
    """Whom the person has consented to share needs information with."""

    NAV = "NAV"
    KOMMUNE = "KOMMUNE"  # the residence municipality
    HELSE = "HELSE"  # health services


class Need(StrEnum):
    """Needs mapped before release (BRIK), shared only where consent allows."""

    BOLIG = "BOLIG"  # housing
    ARBEID = "ARBEID"  # work
    HELSE = "HELSE"  # health
    RUS = "RUS"  # substance abuse
    OKONOMI = "OKONOMI"  # personal finances


class CustodyOutcome(StrEnum):
    """How remand custody ended (the police system's codes)."""

    RELEASED = "RELEASED"  # set free
    SENTENCE_EXECUTION = "SENTENCE_EXECUTION"  # goes on to serve a sentence
    TRANSFERRED = "TRANSFERRED"  # handed over elsewhere (another authority, extradition, ...)
