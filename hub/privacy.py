"""Personal data: the pseudonymous person key, and masking of text that may hold identity data.

The person key is a keyed HMAC-SHA256 of the identity number. A plain hash would not do: there are
only a few million valid 11-digit identity numbers, so anyone could hash them all in seconds and
reverse it. Without the key, the HMAC cannot be enumerated.

`mask_text` is the one place that masks free text; what counts as an identity number (however
spaced or punctuated) is `schemas.identity.identity_number_spans`. `mask_document` masks a whole
source or hub document by its structure, for operators' views (below).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lxml import etree

import schemas
from schemas.identity import identity_number_spans

__all__ = ["HIDDEN", "MASK", "PersonKeys", "mask_document", "mask_text", "mask_token"]

# Validators quote the offending value ("The value 'Kari' is not ..."): it may be a name. A quote
# that never closes (libxml2 cuts long messages) hides everything after it.
_QUOTED_VALUE: Final = re.compile(
    r"""(value|Value|input_value=|got)\s*(['"])(.*?)(?:\2|\Z)""", re.DOTALL
)
MASK: Final = "***********"


def mask_text(text: str) -> str:
    """`text` with every identity number, however spaced, and every quoted input value masked."""
    text = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)} {m.group(2)}***{m.group(2)}", text)
    spans = list(identity_number_spans(text))
    for start, end in reversed(spans):
        text = text[:start] + MASK + text[end:]
    return text


class PersonKeys:
    """Turns an identity number into the pseudonymous key used as Kafka key and event subject."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the person key secret must be at least 16 bytes")
        self._secret = secret

    def __call__(self, identity_number: str) -> str:
        digest = hmac.new(self._secret, identity_number.encode("ascii"), hashlib.sha256)
        # 128 bits: collision-free at any population, and short enough for keys and URLs.
        return "pk-" + digest.hexdigest()[:32]


# Documents for people to read (console, CLI): masked by structure, not by recognising names.
# Every text, attribute value, comment and string is hidden unless it is a code the contracts
# declare, or an id or date in a field that holds one and has that shape; a name can hide in
# CDATA, behind a comment, in a misspelt element or under a `\u`-escaped key, but not in those.
# Element, attribute and key names the contracts do not declare are hidden too.

# What stands for a hidden value in operators' views and for a source's id that cannot be shown.
HIDDEN: Final = "***"
_ID_FIELDS: Final = frozenset(
    {
        # source formats
        "HendelseId", "Erstatter", "Saksnummer", "DomId", "eventId", "caseReference",
        "kode", "code", "versjon", "dager", "aar", "Dager", "Varetektsfradrag", "Oppholdskommune",
        # canonical and recipient messages
        "id", "type", "source", "subject", "correlationid", "replaces", "sourceeventid",
        "dataschema", "specversion", "datacontenttype", "case_number", "case_reference",
        "residence_municipality", "probation_days", "days", "frame_years", "minimum_years",
        "remand_deduction_days", "message_id", "messageid", "rule_id", "in_reply_to",
    }
)  # fmt: skip
_DATE_FIELDS: Final = frozenset(
    {
        "Registrert", "Startdato", "ForventetLoslatelse", "Dato", "Tidspunkt", "Avsagt",
        "Rettskraftig", "occurredAt", "decidedAt", "until", "endedAt",
        "time", "date", "start_date", "expected_release_date", "pronounced_date", "final_date",
        "decided_at", "ended_at", "sent_at", "received_at",
    }
)  # fmt: skip
_ELEVEN_DIGITS: Final = re.compile(r"\d{11}")
_ID_SHAPE: Final = re.compile(r"(?=[^\s]*[\d:])[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}")
_DATE_SHAPE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_XML_TOKEN: Final = re.compile(
    r"<!--(?P<comment>.*?)(?:-->|\Z)"
    r"|<!\[CDATA\[(?P<cdata>.*?)(?:\]\]>|\Z)"
    r"|<\?(?P<pi>.*?)(?:\?>|\Z)"
    r"|<!(?P<decl>[^>]*)(?:>|\Z)"
    r"|</(?P<end>[^>]*)(?:>|\Z)"
    r"|<(?P<start>[^>]*)(?:>|\Z)"
    r"|(?P<text>[^<]+)",
    re.DOTALL,
)
_TAG_NAME: Final = re.compile(r"\s*([^\s/>]+)")
_ATTRIBUTE: Final = re.compile(r"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_QUOTES: Final = "\"'"
_XSD: Final = "{http://www.w3.org/2001/XMLSchema}"
_JSON_TOKEN: Final = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*(?:"|\Z))(?P<key>\s*:)?|(?P<bare>[^\s{}\[\],:"]+)', re.DOTALL
)
_JSON_BARE: Final = re.compile(r"true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """What the contracts declare: element, attribute and member names, codes, namespaces."""

    names: frozenset[str]
    codes: frozenset[str]


def mask_document(value: bytes) -> str:
    """`value` (an XML or JSON document, well-formed or not) for people to read, masked."""
    text = value.decode("utf-8", errors="replace").removeprefix("\ufeff")
    start = text.lstrip()[:1]
    if start == "<":
        return _mask_xml(text)
    if start in {"{", "["}:
        return _mask_json(text)
    return f"({len(value)} bytes, neither XML nor JSON: hidden)"


# Each event's ids are bound to the log context of every stage that handles it, logged or not.
@functools.lru_cache(maxsize=4096)
def mask_token(value: str) -> str:
    """An id, key or code a source chose, shown (identity numbers masked) only if it has the
    shape of one: a token with a digit or a colon, so never a name. One that still holds 11
    digits in a run after masking (a mistyped number glued to more digits) is hidden whole."""
    if _ID_SHAPE.fullmatch(value) is None:
        return HIDDEN
    masked = mask_text(value)
    return HIDDEN if _ELEVEN_DIGITS.search(masked) else masked


def _shown(value: str, field: str | None) -> str:
    """`value` of `field` as people see it: shown only if it cannot be a name."""
    core = value.strip()
    if not core:
        return value
    vocabulary = _vocabulary()
    if core in vocabulary.codes:
        shown = core
    elif field in _ID_FIELDS:
        shown = mask_token(core)
    elif field in _DATE_FIELDS and _DATE_SHAPE.fullmatch(core):
        shown = core
    else:
        shown = HIDDEN
    lead = value[: len(value) - len(value.lstrip())]
    return lead + shown + value[len(value.rstrip()) :]


def _name(name: str) -> str:
    # A namespace prefix is the source's own word, like an undeclared name: hidden.
    prefix, colon, local = name.rpartition(":")
    if name == "xmlns":
        return name
    shown_prefix = prefix if prefix in {"xml", "xmlns"} else HIDDEN if prefix else ""
    declared = local in _vocabulary().names and prefix != "xmlns"
    return f"{shown_prefix}{colon}{local if declared else HIDDEN}"


def _mask_xml(text: str) -> str:
    out: list[str] = []
    open_elements: list[str] = []
    for token in _XML_TOKEN.finditer(text):
        kind = token.lastgroup
        part = token.group(kind) if kind else ""
        current = open_elements[-1] if open_elements else None
        if kind == "text":
            out.append(_shown(part, current))
        elif kind == "cdata":
            out.append(f"<![CDATA[{_shown(part, current)}]]>")
        elif kind == "start":
            out.append(_start_tag(part, open_elements))
        elif kind == "end":
            out.append(_end_tag(part, open_elements))
        elif kind == "pi" and part.startswith("xml ") and not out:
            out.append(_XML_DECLARATION)
        else:  # comments, processing instructions, declarations: nothing a recipient reads
            out.append("<!--***-->")
    return "".join(out)


def _start_tag(tag: str, open_elements: list[str]) -> str:
    found = _TAG_NAME.match(tag)
    name = found.group(1) if found else ""
    local = name.rpartition(":")[2]
    attributes = "".join(
        f' {_name(key)}="{_attribute(key, quoted.strip(_QUOTES))}"'
        for key, quoted in _ATTRIBUTE.findall(tag[found.end() if found else 0 :])
    )
    closed = tag.rstrip().endswith("/")
    if not closed:
        open_elements.append(local)
    return f"<{_name(name)}{attributes}{'/' if closed else ''}>"


def _attribute(key: str, value: str) -> str:
    if key == "xmlns" or key.startswith("xmlns:"):
        return value if value in _vocabulary().codes else HIDDEN
    return _shown(value, key.rpartition(":")[2])


def _end_tag(tag: str, open_elements: list[str]) -> str:
    name = tag.strip()
    local = name.rpartition(":")[2]
    if local in open_elements:
        del open_elements[len(open_elements) - 1 - open_elements[::-1].index(local) :]
    return f"</{_name(name)}>"


def _mask_json(text: str) -> str:
    try:
        return json.dumps(_masked_json(json.loads(text), None), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # not well-formed, or too deep: string by string
        return _mask_json_text(text)


def _masked_json(value: Any, field: str | None) -> Any:
    if isinstance(value, dict):
        members: dict[str, Any] = {}
        for n, (key, item) in enumerate(value.items()):
            shown = key if key in _vocabulary().names else f"{HIDDEN} ({n + 1})"
            members[shown] = _masked_json(item, key)
        return members
    if isinstance(value, list):
        return [_masked_json(item, field) for item in value]
    if isinstance(value, str):
        return _shown(value, field)
    if isinstance(value, bool) or value is None:
        return value
    return value if mask_text(str(value)) == str(value) else HIDDEN


def _mask_json_text(text: str) -> str:
    last_key: list[str | None] = [None]  # the member the next string belongs to

    def token(match: re.Match[str]) -> str:
        if match.group("bare") is not None:  # outside strings: numbers and literals only
            bare = match.group("bare")
            return bare if _JSON_BARE.fullmatch(bare) else HIDDEN
        separator = match.group("key") or ""
        literal = match.group("string")
        try:
            decoded = json.loads(literal)
        except ValueError:
            decoded = None
        if not isinstance(decoded, str):
            return f'"{HIDDEN}"{separator}'
        if separator:
            last_key[0] = decoded
            shown = literal if decoded in _vocabulary().names else f'"{HIDDEN}"'
            return shown + separator
        return json.dumps(_shown(decoded, last_key[0]), ensure_ascii=False)

    return mask_text(_JSON_TOKEN.sub(token, text))


@functools.cache
def _vocabulary() -> _Vocabulary:
    """Read once from the contract files: the XSDs and JSON Schemas under `schemas`."""
    names: set[str] = set()
    codes: set[str] = set()
    root = Path(schemas.__file__).parent
    for path in sorted(root.rglob("*.xsd")):
        _xsd_words(path, names, codes)
    for path in sorted(root.rglob("*.json")):
        _json_words(json.loads(path.read_bytes()), names, codes)
    return _Vocabulary(frozenset(names), frozenset(codes))


def _xsd_words(path: Path, names: set[str], codes: set[str]) -> None:
    xsd = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False))
    codes.add(str(xsd.get("targetNamespace", "")))
    names.update(str(e.get("name")) for e in xsd.iter(f"{_XSD}element", f"{_XSD}attribute"))
    codes.update(str(e.get("value")) for e in xsd.iter(f"{_XSD}enumeration"))


def _json_words(schema: Any, names: set[str], codes: set[str]) -> None:
    if isinstance(schema, dict):
        names.update(schema.get("properties", {}))
        allowed = [*schema.get("enum", []), schema.get("const")]
        codes.update(value for value in allowed if isinstance(value, str))
        for value in schema.values():
            _json_words(value, names, codes)
    elif isinstance(schema, list):
        for value in schema:
            _json_words(value, names, codes)
