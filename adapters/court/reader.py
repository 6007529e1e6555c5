"""Raw final-judgment XML → `CourtJudgment`, through the shared hardened XML gate."""

from __future__ import annotations

import functools
from typing import Final, Literal

from lxml import etree

from adapters.context import TranslationContext
from adapters.court.record import CourtJudgment, CourtPerson, CourtSanction
from adapters.xml_gate import XmlGate
from schemas.errors import InputRejected
from schemas.xsd import DOMSTOL_RETTSKRAFTIG_DOM_V1

__all__ = ["NAMESPACE", "parse"]

NAMESPACE: Final = "urn:no:domstol:rettskraftig-dom:v1"
_NS: Final = {"d": NAMESPACE}


def parse(raw: bytes, ctx: TranslationContext) -> CourtJudgment:
    """The record of one final-judgment document, or `InputRejected` from the gate."""
    root = _gate().check(raw, max_bytes=ctx.max_document_bytes)
    return CourtJudgment(
        dom_id=_text(root, "d:DomId"),
        saksnummer=_text(root, "d:Saksnummer"),
        domstol=_text(root, "d:Domstol"),
        avsagt=_text(root, "d:Avsagt"),
        rettskraftig=_text(root, "d:Rettskraftig"),
        domfelt=_person(_one(root, "d:Domfelt")),
        reaksjon=_sanction(_one(root, "d:Reaksjon")),
        lovbrudd=tuple(e.get("paragraf", "") for e in root.findall("d:Lovbrudd", _NS)),
        erstatter=_optional_text(root, "d:Erstatter"),
    )


@functools.cache
def _gate() -> XmlGate:
    # Compiled on first use, once per process: importing the adapter does no I/O.
    return XmlGate(DOMSTOL_RETTSKRAFTIG_DOM_V1, namespace=NAMESPACE, root_element="RettskraftigDom")


def _person(element: etree._Element) -> CourtPerson:
    number = element[0]  # the XSD puts Fodselsnummer or DNummer first
    is_d_number = etree.QName(number).localname == "DNummer"
    kind: Literal["Fodselsnummer", "DNummer"] = "DNummer" if is_d_number else "Fodselsnummer"
    return CourtPerson(
        identitetsnummer=number.text or "",
        nummertype=kind,
        fornavn=_text(element, "d:Fornavn"),
        etternavn=_text(element, "d:Etternavn"),
    )


def _sanction(element: etree._Element) -> CourtSanction:
    # The XSD has checked that each of these is an integer in range, where present.
    return CourtSanction(
        type=element.get("type", ""),
        dager=_optional_int(element, "d:Dager"),
        tidsramme_aar=_optional_int(element, "d:Tidsramme", attribute="aar"),
        minstetid_aar=_optional_int(element, "d:Minstetid", attribute="aar"),
        varetektsfradrag=_optional_int(element, "d:Varetektsfradrag"),
    )


# The XSD has been checked, so a missing element here is a bug in this module or the XSD.


def _one(element: etree._Element, path: str) -> etree._Element:
    found = element.findall(path, _NS)
    if len(found) != 1:
        raise InputRejected(f"expected one {path.removeprefix('d:')}, found {len(found)}")
    return found[0]


def _text(element: etree._Element, path: str) -> str:
    return _one(element, path).text or ""


def _optional_text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, _NS)
    return None if found is None else (found.text or "")


def _optional_int(
    element: etree._Element, path: str, *, attribute: str | None = None
) -> int | None:
    found = element.find(path, _NS)
    if found is None:
        return None
    return int((found.get(attribute, "") if attribute else found.text) or "")
