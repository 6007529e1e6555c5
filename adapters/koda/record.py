"""The KODA export as it is: a typed record of one source document, in the source's terms.

Values are kept as the source wrote them (codes and dates as text): what they mean, and whether
they are acceptable beyond the XSD, is decided in `adapters.koda.mapper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "KodaBody",
    "KodaEnhet",
    "KodaHendelse",
    "KodaIverksettelse",
    "KodaLoslatelse",
    "KodaOverforing",
    "KodaPerson",
    "KodaSamtykke",
    "KodaStraffesak",
    "KodaUnnvikelse",
]


@dataclass(frozen=True, slots=True)
class KodaPerson:
    # Out of repr so that a logged or printed record does not show who it is about.
    identitetsnummer: str = field(repr=False)
    nummertype: Literal["Fodselsnummer", "DNummer"]
    fornavn: str = field(repr=False)
    etternavn: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class KodaStraffesak:
    saksnummer: str
    reaksjon: str
    lovbrudd: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KodaEnhet:
    kode: str
    navn: str


@dataclass(frozen=True, slots=True)
class KodaIverksettelse:
    startdato: str
    forventet_loslatelse: str | None


@dataclass(frozen=True, slots=True)
class KodaOverforing:
    dato: str
    til_enhet: KodaEnhet
    til_form: str
    arsak: str | None
    # Optional in the export (added after v1): where the person lives in the new form.
    oppholdskommune: str | None = None


@dataclass(frozen=True, slots=True)
class KodaLoslatelse:
    dato: str
    type: str
    provetid_dager: int | None
    oppholdskommune: str | None
    samtykke: tuple[str, ...]
    behov: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KodaUnnvikelse:
    tidspunkt: str
    beskrivelse: str | None


@dataclass(frozen=True, slots=True)
class KodaSamtykke:
    """Consent as its own event (SAMTYKKE, added after v1)."""

    kilde: str
    gyldig_til: str | None
    mottakere: tuple[str, ...]


KodaBody = KodaIverksettelse | KodaOverforing | KodaLoslatelse | KodaUnnvikelse | KodaSamtykke


@dataclass(frozen=True, slots=True)
class KodaHendelse:
    """One `<Hendelse>` document."""

    versjon: str
    hendelse_id: str
    hendelsestype: str
    status: str
    registrert: str
    erstatter: str | None
    person: KodaPerson
    # Absent only in a SAMTYKKE document; the mapper requires them for every other type.
    straffesak: KodaStraffesak | None
    enhet: KodaEnhet
    gjennomforingsform: str | None
    body: KodaBody
