"""The source formats change only additively: every document valid under the released version 1
of a format is valid under the current one, so no publisher has to change anything.

Two checks per format. Structurally, against the released copy kept beside it
(`schemas/xsd/released/`, `schemas/sources/released/`): the current schema is the released one
widened (optional elements or properties, another alternative of a choice, another code, a new
type) or with constraints dropped. And in practice: every bundled
sample and a few hundred generated documents that the released schema accepts, the current one
accepts too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from hubdev.demo import SAMPLES, court, police, synthetic
from schemas.sources import POLICE_CUSTODY_V1
from schemas.xsd import DOMSTOL_RETTSKRAFTIG_DOM_V1, KODA_HENDELSE_V1

XS = "{http://www.w3.org/2001/XMLSchema}"
XSDS = [KODA_HENDELSE_V1, DOMSTOL_RETTSKRAFTIG_DOM_V1]
_WORDS = {"description", "title", "$comment", "examples"}


def released(path: Path) -> Path:
    return path.parent / "released" / path.name


def _declarations(node: etree._Element) -> list[etree._Element]:
    return [
        child for child in node if isinstance(child.tag, str) and child.tag != f"{XS}annotation"
    ]


def xsd_additions(old: etree._Element, new: etree._Element, where: str = "") -> Iterator[str]:
    """Why `new` is not `old` widened (empty when it is): optional elements added, an element
    made optional, an alternative added to a choice, a value added to an enumeration, a new
    named type."""
    here = f"{where}/{etree.QName(new).localname}[{new.get('name', new.get('value', ''))}]"
    if old.tag != new.tag or _attributes(old) != _attributes(new):
        yield f"{here}: changed"
        return
    if old.get("minOccurs") != new.get("minOccurs") and new.get("minOccurs") != "0":
        yield f"{here}: minOccurs changed"
    kept = iter(_declarations(new))
    for before in _declarations(old):
        after = next(kept, None)
        while after is not None and _identity(after) != _identity(before):
            if not _widening(after, new):
                yield f"{here}: {_identity(after)} was added and narrows"
            after = next(kept, None)
        if after is None:
            yield f"{here}: {_identity(before)} was removed"
            return
        yield from xsd_additions(before, after, here)
    for extra in kept:
        if not _widening(extra, new):
            yield f"{here}: {_identity(extra)} was added and narrows"


def _attributes(node: etree._Element) -> dict[str, str]:
    # minOccurs is compared on its own: lowering it to 0 only widens.
    return {k: v for k, v in node.attrib.items() if k != "minOccurs"}


def _identity(node: etree._Element) -> tuple[str, str | None]:
    return etree.QName(node).localname, node.get("name", node.get("value"))


def _widening(node: etree._Element, parent: etree._Element) -> bool:
    """Whether adding `node` to `parent` only lets more documents through."""
    kind, within = etree.QName(node).localname, etree.QName(parent).localname
    if kind == "element":
        return node.get("minOccurs") == "0" or within == "choice"
    if kind == "enumeration":
        return True
    return kind in ("complexType", "simpleType") and within == "schema"


def json_additions(old: Any, new: Any, where: str = "$") -> Iterator[str]:
    """Why `new` accepts less than `old` by the changes this project makes (empty when not):
    properties may be added if not required, requirements and `not` constraints dropped."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() - new.keys() - _WORDS):
            if not _a_loosening(key, old[key]):
                yield f"{where}.{key} was removed"
        for key in sorted(new.keys() - old.keys() - _WORDS):
            yield f"{where}.{key} was added"
        for key in sorted((old.keys() & new.keys()) - _WORDS):
            if key == "required":
                if not set(new[key]) <= set(old[key]):
                    yield f"{where}.required gained {sorted(set(new[key]) - set(old[key]))}"
            elif key == "properties":
                yield from _properties(old, new, where)
            else:
                yield from json_additions(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (was, now) in enumerate(zip(old, new, strict=True)):
            yield from json_additions(was, now, f"{where}[{index}]")
    elif old != new:
        yield f"{where}: changed"


def _a_loosening(key: str, removed: Any) -> bool:
    """Whether dropping `key` (with value `removed`) only lets more documents through."""
    if key in ("not", "required"):
        return True
    return key == "properties" and all(value == {"not": {}} for value in removed.values())


def _properties(old: dict[str, Any], new: dict[str, Any], where: str) -> Iterator[str]:
    was, now = old["properties"], new["properties"]
    for name in sorted(was):
        if name not in now:
            if was[name] != {"not": {}}:
                yield f"{where}.{name} was removed"
            continue
        yield from json_additions(was[name], now[name], f"{where}.{name}")
    for name in sorted(now.keys() - was.keys()):
        if name in new.get("required", ()):
            yield f"{where}.{name} was added as required"


@pytest.mark.parametrize("path", XSDS, ids=lambda p: p.name)
def test_each_xsd_is_its_released_version_widened(path: Path) -> None:
    old, new = etree.parse(released(path)).getroot(), etree.parse(path).getroot()
    assert list(xsd_additions(old, new)) == []


def test_the_police_schema_is_its_released_version_plus_optional_fields() -> None:
    old = json.loads(released(POLICE_CUSTODY_V1).read_text(encoding="utf-8"))
    new = json.loads(POLICE_CUSTODY_V1.read_text(encoding="utf-8"))
    assert list(json_additions(old, new)) == []


def test_control_the_structural_checks_catch_a_narrowing() -> None:
    old = json.loads(released(POLICE_CUSTODY_V1).read_text(encoding="utf-8"))
    narrowed = json.loads(json.dumps(old))
    narrowed["required"].append("note")
    narrowed["properties"]["note"] = {"type": "string"}
    assert list(json_additions(old, narrowed)) != []
    xsd = etree.parse(released(KODA_HENDELSE_V1)).getroot()
    stricter = etree.parse(released(KODA_HENDELSE_V1)).getroot()
    overforing = stricter.find(f"{XS}complexType[@name='Overforing']/{XS}sequence")
    assert overforing is not None
    overforing.append(etree.Element(f"{XS}element", name="Ny", type="k:Dato"))
    assert list(xsd_additions(xsd, stricter)) != []
    fewer = etree.parse(released(KODA_HENDELSE_V1)).getroot()
    codes = fewer.find(f"{XS}simpleType[@name='Status']/{XS}restriction")
    assert codes is not None
    codes.remove(codes[-1])
    assert list(xsd_additions(xsd, fewer)) != []


def _xml_documents() -> Iterator[tuple[Path, bytes]]:
    for raw in (SAMPLES / "koda").glob("*.xml"):
        yield KODA_HENDELSE_V1, raw.read_bytes()
    for raw in (SAMPLES / "court").glob("*.xml"):
        yield DOMSTOL_RETTSKRAFTIG_DOM_V1, raw.read_bytes()
    for document in synthetic.valid_documents(300, seed=13):
        yield KODA_HENDELSE_V1, document.raw
    for document in court.valid_documents(100, seed=13):
        yield DOMSTOL_RETTSKRAFTIG_DOM_V1, document.raw


def test_every_document_the_released_xsds_accept_the_current_ones_accept() -> None:
    schemas = {
        p: (etree.XMLSchema(file=str(released(p))), etree.XMLSchema(file=str(p))) for p in XSDS
    }
    checked = 0
    for path, raw in _xml_documents():
        document = etree.fromstring(raw)
        before, now = schemas[path]
        if before.validate(document):
            assert now.validate(document), now.error_log
            checked += 1
    assert checked > 300


def test_every_document_the_released_police_schema_accepts_the_current_one_accepts() -> None:
    before = Draft202012Validator(json.loads(released(POLICE_CUSTODY_V1).read_text("utf-8")))
    now = Draft202012Validator(json.loads(POLICE_CUSTODY_V1.read_text("utf-8")))
    raws = [p.read_bytes() for p in (SAMPLES / "police").glob("*.json")]
    raws += [d.raw for d in police.valid_documents(200, seed=13)]
    accepted = [json.loads(raw) for raw in raws if before.is_valid(json.loads(raw))]
    assert len(accepted) > 200
    assert all(now.is_valid(document) for document in accepted)
