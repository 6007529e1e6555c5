"""`KodaHendelse` → KODA XML: the inverse of `adapters.koda.parse`, for samples and generators.

It writes whatever the record holds, valid or not, so that generators can make invalid
documents from records too.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from adapters.koda.reader import NAMESPACE
from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaSamtykke,
    KodaStraffesak,
)

__all__ = ["render"]

_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# lxml takes the prefix None for the default namespace; lxml-stubs 0.5.1 only allows str keys.
_DEFAULT_NAMESPACE: Final = {None: NAMESPACE}


def render(record: KodaHendelse) -> bytes:
    """The KODA XML document of `record`, UTF-8, indented."""
    root = _el(
        "Hendelse",
        _el("HendelseId", record.hendelse_id),
        _el("Hendelsestype", record.hendelsestype),
        _el("Status", record.status),
        _el("Registrert", record.registrert),
        *_optional("Erstatter", record.erstatter),
        _el(
            "Person",
            _el(record.person.nummertype, record.person.identitetsnummer),
            _el("Fornavn", record.person.fornavn),
            _el("Etternavn", record.person.etternavn),
        ),
        *_straffesak(record.straffesak),
        _enhet("Enhet", record.enhet),
        *_optional("Gjennomforingsform", record.gjennomforingsform),
        _body(record.body),
        versjon=record.versjon,
    )
    return _DECLARATION + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )


def _straffesak(case: KodaStraffesak | None) -> list[etree._Element]:
    if case is None:
        return []
    return [
        _el(
            "Straffesak",
            _el("Saksnummer", case.saksnummer),
            _el("Reaksjon", case.reaksjon),
            *(_el("Lovbrudd", offence) for offence in case.lovbrudd),
        )
    ]


def _body(body: KodaBody) -> etree._Element:
    if isinstance(body, KodaIverksettelse):
        return _el(
            "Iverksettelse",
            _el("Startdato", body.startdato),
            *_optional("ForventetLoslatelse", body.forventet_loslatelse),
        )
    if isinstance(body, KodaOverforing):
        return _el(
            "Overforing",
            _el("Dato", body.dato),
            _enhet("TilEnhet", body.til_enhet),
            _el("TilForm", body.til_form),
            *_optional("Arsak", body.arsak),
            *_optional("Oppholdskommune", body.oppholdskommune),
        )
    if isinstance(body, KodaLoslatelse):
        return _loslatelse(body)
    if isinstance(body, KodaSamtykke):
        valid = {} if body.gyldig_til is None else {"gyldigTil": body.gyldig_til}
        return _el(
            "Samtykke", *(_el("Mottaker", m) for m in body.mottakere), kilde=body.kilde, **valid
        )
    return _el(
        "Unnvikelse", _el("Tidspunkt", body.tidspunkt), *_optional("Beskrivelse", body.beskrivelse)
    )


def _loslatelse(body: KodaLoslatelse) -> etree._Element:
    provetid = (
        [] if body.provetid_dager is None else [_el("Provetid", dager=str(body.provetid_dager))]
    )
    samtykke = (
        [_el("Samtykke", *(_el("Mottaker", m) for m in body.samtykke))] if body.samtykke else []
    )
    return _el(
        "Loslatelse",
        _el("Dato", body.dato),
        _el("Type", body.type),
        *provetid,
        *_optional("Oppholdskommune", body.oppholdskommune),
        *samtykke,
        *(_el("Behov", need) for need in body.behov),
    )


def _enhet(tag: str, enhet: KodaEnhet) -> etree._Element:
    return _el(tag, kode=enhet.kode, navn=enhet.navn)


def _optional(tag: str, text: str | None) -> list[etree._Element]:
    return [] if text is None else [_el(tag, text)]


def _el(tag: str, *content: etree._Element | str, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{NAMESPACE}}}{tag}", attributes, nsmap=_DEFAULT_NAMESPACE)  # type: ignore[arg-type]  # see _DEFAULT_NAMESPACE
    for part in content:
        if isinstance(part, str):
            element.text = part
        else:
            element.append(part)
    return element
