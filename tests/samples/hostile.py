"""Hostile XML documents: each is a valid document but for one attack, and the reason it gets.

For the gate's unit tests and for end-to-end tests through the real broker, for every XML
source (`KODA`, `COURT`: the same attacks on each format's own valid document). The file and URL
the attacks aim at can be chosen, so a test can point them at a file and a listener it watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from schemas.errors import Reason

__all__ = ["BASE_DOCUMENT", "COURT", "FIVE_MIB", "KODA", "Base", "Hostile", "hostile_documents"]

FIVE_MIB: Final = 5 * 1024 * 1024

# A valid release; the identity number is the contract's own synthetic example (month + 80).
BASE_DOCUMENT: Final = """<?xml version="1.0" encoding="UTF-8"?>
<Hendelse xmlns="urn:no:kriminalomsorgen:koda:hendelse:v1" versjon="1">
  <HendelseId>HOSTILE-1</HendelseId>
  <Hendelsestype>LOSLATELSE</Hendelsestype>
  <Status>PLANLAGT</Status>
  <Registrert>2026-11-20T09:15:00+01:00</Registrert>
  <Person>
    <Fodselsnummer>12838545619</Fodselsnummer>
    <Fornavn>Kari</Fornavn>
    <Etternavn>Nordmann</Etternavn>
  </Person>
  <Straffesak>
    <Saksnummer>26-014512MED-TOSL/05</Saksnummer>
    <Reaksjon>UBETINGET_FENGSEL</Reaksjon>
  </Straffesak>
  <Enhet kode="1001" navn="Agder fengsel, avdeling Froland"/>
  <Gjennomforingsform>FENGSEL_LAV</Gjennomforingsform>
  <Loslatelse>
    <Dato>2026-12-14</Dato>
    <Type>ENDT_STRAFF</Type>
  </Loslatelse>
</Hendelse>
"""
# A valid final judgment, with the same synthetic person.
COURT_DOCUMENT: Final = """<?xml version="1.0" encoding="UTF-8"?>
<RettskraftigDom xmlns="urn:no:domstol:rettskraftig-dom:v1">
  <DomId>HOSTILE-1</DomId>
  <Saksnummer>26-014512MED-TOSL/05</Saksnummer>
  <Domstol>Oslo tingrett</Domstol>
  <Avsagt>2026-09-30</Avsagt>
  <Rettskraftig>2026-10-21</Rettskraftig>
  <Domfelt>
    <Fodselsnummer>12838545619</Fodselsnummer>
    <Fornavn>Kari</Fornavn>
    <Etternavn>Nordmann</Etternavn>
  </Domfelt>
  <Reaksjon type="UBETINGET_FENGSEL"><Dager>120</Dager></Reaksjon>
  <Lovbrudd paragraf="Straffeloven § 321"/>
</RettskraftigDom>
"""
_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True, slots=True)
class Base:
    """A valid document of one format, and the places in it the attacks change."""

    document: str
    root: str
    namespace: str
    # An element whose content can be replaced by deeply nested elements.
    nest_in: str


KODA: Final = Base(
    BASE_DOCUMENT,
    "Hendelse",
    "urn:no:kriminalomsorgen:koda:hendelse:v1",
    "<Type>ENDT_STRAFF</Type>",
)
COURT: Final = Base(
    COURT_DOCUMENT,
    "RettskraftigDom",
    "urn:no:domstol:rettskraftig-dom:v1",
    "<Dager>120</Dager>",
)
_LAUGHS: Final = "".join(
    f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "lol">' for i in range(10)
)


@dataclass(frozen=True, slots=True)
class Hostile:
    name: str
    raw: bytes
    reason: Reason


def hostile_documents(
    *, target_file: str = "/etc/passwd", url: str = "http://127.0.0.1:9/x", base: Base = KODA
) -> list[Hostile]:
    """Every attack on `base`'s format, aimed at `target_file` (a path) and `url`."""
    file_url = "file://" + target_file
    root = base.root
    return [
        _with_dtd(base, "xxe_file", f'<!ENTITY xxe SYSTEM "{file_url}">', "&xxe;"),
        _with_dtd(base, "xxe_url", f'<!ENTITY xxe SYSTEM "{url}">', "&xxe;"),
        _with_dtd(base, "xxe_parameter_entity", f'<!ENTITY % p SYSTEM "{file_url}"> %p;', "Kari"),
        _with_doctype(base, "external_dtd_file", f'<!DOCTYPE {root} SYSTEM "{file_url}">', "Kari"),
        _with_doctype(base, "external_dtd_url", f'<!DOCTYPE {root} SYSTEM "{url}">', "Kari"),
        _with_dtd(base, "billion_laughs", _LAUGHS, "&l9;"),
        _with_doctype(base, "plain_doctype", f"<!DOCTYPE {root}>", "Kari"),
        Hostile("five_mib", _padded(base, FIVE_MIB), Reason.TOO_LARGE),
        Hostile("wrong_namespace", _wrong_namespace(base), Reason.WRONG_NAMESPACE),
        Hostile("no_namespace", _no_namespace(base), Reason.WRONG_NAMESPACE),
        Hostile("invalid_utf8", _named(base, b"K\xf8ri"), Reason.INVALID_ENCODING),
        Hostile("declared_latin1", _declared_latin1(base), Reason.INVALID_ENCODING),
        Hostile(
            "utf16",
            base.document.replace("UTF-8", "UTF-16").encode("utf-16"),
            Reason.INVALID_ENCODING,
        ),
        Hostile("deep_nesting", _deeply_nested(base), Reason.INVALID_XML),
        Hostile("xinclude", _xinclude(base, file_url), Reason.SCHEMA_VIOLATION),
    ]


def _with_dtd(base: Base, name: str, declarations: str, given_name: str) -> Hostile:
    return _with_doctype(base, name, f"<!DOCTYPE {base.root} [{declarations}]>", given_name)


def _with_doctype(base: Base, name: str, doctype: str, given_name: str) -> Hostile:
    body = base.document.removeprefix(_DECLARATION).replace("Kari", given_name)
    return Hostile(name, f"{_DECLARATION}{doctype}\n{body}".encode(), Reason.FORBIDDEN_DTD)


def _padded(base: Base, size: int) -> bytes:
    padding = "x" * (size - len(base.document))
    closing = f"</{base.root}>"
    return base.document.replace(closing, f"<!--{padding}-->{closing}").encode()


def _wrong_namespace(base: Base) -> bytes:
    return base.document.replace(base.namespace, "urn:example:x").encode()


def _no_namespace(base: Base) -> bytes:
    return base.document.replace(f' xmlns="{base.namespace}"', "").encode()


def _named(base: Base, given_name: bytes) -> bytes:
    return base.document.encode().replace(b"Kari", given_name)


def _declared_latin1(base: Base) -> bytes:
    # ASCII only, so valid UTF-8 too: only the declaration is wrong.
    return base.document.replace("UTF-8", "ISO-8859-1").encode()


def _deeply_nested(base: Base) -> bytes:
    depth = 10_000
    nested = "<Arsak>" * depth + "</Arsak>" * depth
    return base.document.replace(base.nest_in, nested).encode()


def _xinclude(base: Base, file_url: str) -> bytes:
    include = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{file_url}" parse="text"/>'
    )
    return base.document.replace("Kari", include).encode()
