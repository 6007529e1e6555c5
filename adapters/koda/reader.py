"""Raw KODA XML → `KodaHendelse`, through the shared XML gate."""

from __future__ import annotations

import functools
from typing import Final, Literal

from lxml import etree

from adapters.context import TranslationContext
from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaPerson,
    KodaSamtykke,
    KodaStraffesak,
    KodaUnnvikelse,
)
from adapters.xml_gate import XmlGate
from schemas.errors import InputRejected
from schemas.xsd import KODA_HENDELSE_V1

__all__ = ["NAMESPACE", "parse"]

NAMESPACE: Final = "urn:no:kriminalomsorgen:koda:hendelse:v1"
_NS: Final = {"k": NAMESPACE}


def parse(raw: bytes, ctx: TranslationContext) -> KodaHendelse:
    """The record of one KODA document, or `InputRejected` from the gate."""
    root = _gate().check(raw, max_bytes=ctx.max_document_bytes)
    return KodaHendelse(
        versjon=root.get("versjon", ""),
        hendelse_id=_text(root, "k:HendelseId"),
        hendelsestype=_text(root, "k:Hendelsestype"),
        status=_text(root, "k:Status"),
        registrert=_text(root, "k:Registrert"),
        erstatter=_optional(root, "k:Erstatter"),
        person=_person(_one(root, "k:Person")),
        straffesak=_straffesak(root),
        enhet=_enhet(_one(root, "k:Enhet")),
        gjennomforingsform=_optional(root, "k:Gjennomforingsform"),
        body=_body(root),
    )


@functools.cache
def _gate() -> XmlGate:
    # Compiled on first use, once per process: importing the adapter does no I/O.
    return XmlGate(KODA_HENDELSE_V1, namespace=NAMESPACE, root_element="Hendelse")


def _person(element: etree._Element) -> KodaPerson:
    number = _one_of(element, "Fodselsnummer", "DNummer")
    is_d_number = etree.QName(number).localname == "DNummer"
    kind: Literal["Fodselsnummer", "DNummer"] = "DNummer" if is_d_number else "Fodselsnummer"
    return KodaPerson(
        identitetsnummer=number.text or "",
        nummertype=kind,
        fornavn=_text(element, "k:Fornavn"),
        etternavn=_text(element, "k:Etternavn"),
    )


def _straffesak(root: etree._Element) -> KodaStraffesak | None:
    found = _all(root, "k:Straffesak")
    if not found:
        return None
    element = found[0]
    return KodaStraffesak(
        saksnummer=_text(element, "k:Saksnummer"),
        reaksjon=_text(element, "k:Reaksjon"),
        lovbrudd=_texts(element, "k:Lovbrudd"),
    )


def _enhet(element: etree._Element) -> KodaEnhet:
    return KodaEnhet(kode=element.get("kode", ""), navn=element.get("navn", ""))


def _body(root: etree._Element) -> KodaBody:
    element = _one_of(root, "Iverksettelse", "Overforing", "Loslatelse", "Unnvikelse", "Samtykke")
    name = etree.QName(element).localname
    if name == "Iverksettelse":
        return KodaIverksettelse(
            startdato=_text(element, "k:Startdato"),
            forventet_loslatelse=_optional(element, "k:ForventetLoslatelse"),
        )
    if name == "Overforing":
        return KodaOverforing(
            dato=_text(element, "k:Dato"),
            til_enhet=_enhet(_one(element, "k:TilEnhet")),
            til_form=_text(element, "k:TilForm"),
            arsak=_optional(element, "k:Arsak"),
            oppholdskommune=_optional(element, "k:Oppholdskommune"),
        )
    if name == "Loslatelse":
        return _loslatelse(element)
    if name == "Samtykke":
        return KodaSamtykke(
            kilde=element.get("kilde", ""),
            gyldig_til=element.get("gyldigTil"),
            mottakere=_texts(element, "k:Mottaker"),
        )
    return KodaUnnvikelse(
        tidspunkt=_text(element, "k:Tidspunkt"),
        beskrivelse=_optional(element, "k:Beskrivelse"),
    )


def _loslatelse(element: etree._Element) -> KodaLoslatelse:
    provetid = _all(element, "k:Provetid")
    return KodaLoslatelse(
        dato=_text(element, "k:Dato"),
        type=_text(element, "k:Type"),
        # The XSD has checked that `dager` is an integer in range.
        provetid_dager=int(provetid[0].get("dager", "")) if provetid else None,
        oppholdskommune=_optional(element, "k:Oppholdskommune"),
        samtykke=_texts(element, "k:Samtykke/k:Mottaker"),
        behov=_texts(element, "k:Behov"),
    )


# The XSD has been checked, so a missing element here is a bug in this module or the XSD.


def _all(element: etree._Element, path: str) -> list[etree._Element]:
    return element.findall(path, namespaces=_NS)


def _one(element: etree._Element, path: str) -> etree._Element:
    return _exactly_one(_all(element, path), path.replace("k:", ""))


def _one_of(element: etree._Element, *names: str) -> etree._Element:
    found = list(element.iterchildren(*(f"{{{NAMESPACE}}}{name}" for name in names)))
    return _exactly_one(found, " or ".join(names))


def _exactly_one(found: list[etree._Element], what: str) -> etree._Element:
    if len(found) != 1:
        raise InputRejected(f"expected one {what}, found {len(found)}")
    return found[0]


def _text(element: etree._Element, path: str) -> str:
    return _one(element, path).text or ""


def _optional(element: etree._Element, path: str) -> str | None:
    found = _all(element, path)
    return (found[0].text or "") if found else None


def _texts(element: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(node.text or "" for node in _all(element, path))
