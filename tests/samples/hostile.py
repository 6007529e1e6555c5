"""Hostile KODA documents: each is a valid document but for one attack, and the reason it gets.

For the gate's unit tests and for end-to-end tests through the real broker. The file and URL the
attacks aim at can be chosen, so a test can point them at a file and a listener it watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from schemas.errors import Reason

__all__ = ["BASE_DOCUMENT", "FIVE_MIB", "Hostile", "hostile_documents"]

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
_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_LAUGHS: Final = "".join(
    f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "lol">' for i in range(10)
)


@dataclass(frozen=True, slots=True)
class Hostile:
    name: str
    raw: bytes
    reason: Reason


def hostile_documents(
    *, target_file: str = "/etc/passwd", url: str = "http://127.0.0.1:9/x"
) -> list[Hostile]:
    """Every attack, aimed at `target_file` (a path) and `url`."""
    file_url = "file://" + target_file
    return [
        _with_dtd("xxe_file", f'<!ENTITY xxe SYSTEM "{file_url}">', "&xxe;"),
        _with_dtd("xxe_url", f'<!ENTITY xxe SYSTEM "{url}">', "&xxe;"),
        _with_dtd("xxe_parameter_entity", f'<!ENTITY % p SYSTEM "{file_url}"> %p;', "Kari"),
        _with_doctype("external_dtd_file", f'<!DOCTYPE Hendelse SYSTEM "{file_url}">', "Kari"),
        _with_doctype("external_dtd_url", f'<!DOCTYPE Hendelse SYSTEM "{url}">', "Kari"),
        _with_dtd("billion_laughs", _LAUGHS, "&l9;"),
        _with_doctype("plain_doctype", "<!DOCTYPE Hendelse>", "Kari"),
        Hostile("five_mib", _padded(FIVE_MIB), Reason.TOO_LARGE),
        Hostile("wrong_namespace", _wrong_namespace(), Reason.WRONG_NAMESPACE),
        Hostile("no_namespace", _no_namespace(), Reason.WRONG_NAMESPACE),
        Hostile("invalid_utf8", _named(b"K\xf8ri"), Reason.INVALID_ENCODING),
        Hostile("declared_latin1", _declared_latin1(), Reason.INVALID_ENCODING),
        Hostile(
            "utf16",
            BASE_DOCUMENT.replace("UTF-8", "UTF-16").encode("utf-16"),
            Reason.INVALID_ENCODING,
        ),
        Hostile("deep_nesting", _deeply_nested(), Reason.INVALID_XML),
        Hostile("xinclude", _xinclude(file_url), Reason.SCHEMA_VIOLATION),
    ]


def _with_dtd(name: str, declarations: str, given_name: str) -> Hostile:
    return _with_doctype(name, f"<!DOCTYPE Hendelse [{declarations}]>", given_name)


def _with_doctype(name: str, doctype: str, given_name: str) -> Hostile:
    body = BASE_DOCUMENT.removeprefix(_DECLARATION).replace("Kari", given_name)
    return Hostile(name, f"{_DECLARATION}{doctype}\n{body}".encode(), Reason.FORBIDDEN_DTD)


def _padded(size: int) -> bytes:
    padding = "x" * (size - len(BASE_DOCUMENT))
    return BASE_DOCUMENT.replace("</Hendelse>", f"<!--{padding}--></Hendelse>").encode()


def _wrong_namespace() -> bytes:
    return BASE_DOCUMENT.replace(
        "urn:no:kriminalomsorgen:koda:hendelse:v1", "urn:example:x"
    ).encode()


def _no_namespace() -> bytes:
    return BASE_DOCUMENT.replace(' xmlns="urn:no:kriminalomsorgen:koda:hendelse:v1"', "").encode()


def _named(given_name: bytes) -> bytes:
    return BASE_DOCUMENT.encode().replace(b"Kari", given_name)


def _declared_latin1() -> bytes:
    # ASCII only, so valid UTF-8 too: only the declaration is wrong.
    return BASE_DOCUMENT.replace("UTF-8", "ISO-8859-1").encode()


def _deeply_nested() -> bytes:
    depth = 10_000
    nested = "<Arsak>" * depth + "</Arsak>" * depth
    return BASE_DOCUMENT.replace("<Type>ENDT_STRAFF</Type>", nested).encode()


def _xinclude(file_url: str) -> bytes:
    include = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{file_url}" parse="text"/>'
    )
    return BASE_DOCUMENT.replace("Kari", include).encode()
