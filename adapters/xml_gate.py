"""The one hardened entrance for XML source documents, shared by every XML adapter.

In order, each failure with its own reason code:
  1. size cap, before anything reads the bytes (`adapters.raw`)        too_large
  2. not empty (`adapters.raw`)                                         empty_document
  3. UTF-8 (`adapters.raw`); no XML declaration naming another encoding invalid_encoding
  4. no DOCTYPE or entity declaration anywhere, so that libxml2 never
     sees a DTD at all                                                  forbidden_dtd
  5. well-formed, parsed by a parser that resolves nothing              invalid_xml
  6. (again) no DTD and no entity reference node in the parsed tree     forbidden_dtd
  7. the expected namespace                                             wrong_namespace
  8. valid against the XSD, compiled once per gate                      schema_violation

Defence in depth against XXE, external DTDs and entity expansion: step 4 refuses them before
parsing; the parser neither loads DTDs nor resolves entities nor uses the network; a resolver
refuses every external resource libxml2 might still ask for; step 6 re-checks the result.
Do not add `collect_ids=False` to the parser options: in lxml 6.1 / libxml2 2.14 it makes
libxml2 load an external DTD subset.

lxml's exceptions never leave this module: each becomes `InputRejected`, `from` the original.
Details are built from the structure of libxml2's errors (kind, line, element path), never from
their message text: libxml2 quotes the offending value and cuts long messages mid-quote. A
detail names only what the XSD declares; an element or attribute the XSD does not know is
"an unknown element", as its name may be anything a source wrote, a person's name included.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from lxml import etree

from adapters.raw import check_raw
from schemas.errors import HubError, InputRejected, Reason

__all__ = ["XmlGate"]

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_XML_DECLARATION: Final = re.compile(rb"<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_UTF8_NAMES: Final = frozenset({"utf-8", "utf8"})
_DTD_MARKERS: Final = (b"<!DOCTYPE", b"<!ENTITY")
_XSD: Final = "{http://www.w3.org/2001/XMLSchema}"
_MAX_ERRORS_SHOWN: Final = 3
# Names and attributes in a schema error's message: XML names hold no quote, space or bracket.
_SUBJECT: Final = re.compile(r"^Element '(?:\{[^}']*\})?([^']*)'(?:, attribute '([^']*)')?:")
_EXPECTED: Final = re.compile(r"Expected is (?:one of )?\( ([^()]*) \)\.?$")
_KINDS: Final = {
    "SCHEMAV_CVC_PATTERN_VALID": "does not match its pattern",
    "SCHEMAV_CVC_ENUMERATION_VALID": "is not one of the allowed values",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "is too long",
    "SCHEMAV_CVC_MINLENGTH_VALID": "is too short",
    "SCHEMAV_CVC_LENGTH_VALID": "has the wrong length",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "is not a valid value of its type",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "is below its minimum",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "is above its maximum",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "is not an allowed attribute",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": "is not an allowed attribute",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "lacks a required attribute",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3": "may not hold text",
    "SCHEMAV_CVC_ELT_1": "is not declared",
}


class _RefuseEverything(etree.Resolver):
    """Answers every request for an external resource (DTD, entity, schema) with a refusal."""

    def resolve(  # type: ignore[override]  # lxml-stubs 0.5.1 lacks the context lxml passes
        self, system_url: str | None, public_id: str | None, context: object
    ) -> None:
        raise _ExternalResourceRequested


class _ExternalResourceRequested(Exception):
    """Raised inside lxml by `_RefuseEverything`; lxml re-raises it from the parse call."""


def _hardened_parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers are not safe to share between threads.
    parser = etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        recover=False,
        decompress=False,  # type: ignore[call-arg]  # lxml 6 option, missing from lxml-stubs 0.5.1
        remove_comments=True,
        remove_pis=True,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


class XmlGate:
    """Checks raw source documents of one XML format: see the module docstring for the steps."""

    def __init__(self, xsd_path: Path, *, namespace: str, root_element: str) -> None:
        self._namespace = namespace
        self._root_tag = f"{{{namespace}}}{root_element}"
        self._schema, self._names = _compile(xsd_path)

    def check(self, raw: bytes, *, max_bytes: int) -> etree._Element:
        """The root element of `raw` if it passes every step, else `InputRejected`."""
        check_raw(raw, max_bytes=max_bytes)
        _check_declared_encoding(raw)
        _refuse_dtd_markers(raw)
        root = _parse(raw)
        _refuse_dtd_in_tree(root)
        self._check_root(root)
        self._validate(root)
        return root

    def _check_root(self, root: etree._Element) -> None:
        namespace = etree.QName(root).namespace
        if namespace != self._namespace:
            shown = "no namespace" if namespace is None else "another namespace"
            raise InputRejected(
                f"root element is in {shown}, expected {self._namespace}",
                reason=Reason.WRONG_NAMESPACE,
            )
        if root.tag != self._root_tag:
            raise InputRejected(
                f"root element is {self._known(etree.QName(root).localname)}, "
                f"expected {etree.QName(self._root_tag).localname}",
                reason=Reason.SCHEMA_VIOLATION,
            )

    def _validate(self, root: etree._Element) -> None:
        try:
            self._schema.assertValid(root)
        except etree.DocumentInvalid as exc:
            raise InputRejected(
                self._describe_errors(exc.error_log, root), reason=Reason.SCHEMA_VIOLATION
            ) from exc

    def _describe_errors(self, log: etree._ListErrorLog, root: etree._Element) -> str:
        errors = list(log)
        shown = "; ".join(self._describe_error(e, root) for e in errors[:_MAX_ERRORS_SHOWN])
        more = len(errors) - _MAX_ERRORS_SHOWN
        return f"{shown} (and {more} more)" if more > 0 else shown

    def _describe_error(self, error: etree._LogEntry, root: etree._Element) -> str:
        subject = _SUBJECT.match(error.message)
        where = self._path(root, error.path)
        if subject is not None and subject.group(2) is not None:
            where += f"/@{self._known(subject.group(2), 'attribute')}"
        return f"line {error.line}: {where} {self._kind(error)}"

    def _path(self, root: etree._Element, path: str | None) -> str:
        # libxml2 gives positional paths (`/*/*[5]/*[2]`): they hold no name, and lead to one.
        try:
            found = root.getroottree().xpath(path) if path else []
        except etree.XPathError:
            found = []
        element = found[0] if isinstance(found, list) and found else None
        if not isinstance(element, etree._Element):
            return "an element"
        steps = [element, *element.iterancestors()]
        return "/".join(self._known(etree.QName(e).localname) for e in reversed(steps))

    def _kind(self, error: etree._LogEntry) -> str:
        if error.type_name != "SCHEMAV_ELEMENT_CONTENT":
            return _KINDS.get(error.type_name, f"breaks {error.type_name.lower()}")
        # Only names are in this message; a misspelt element's name is passed over.
        problem = "is missing a child" if "Missing child" in error.message else "is not expected"
        expected = _EXPECTED.search(error.message)
        if expected is None:
            return problem
        names = [n.rpartition("}")[2] for n in expected.group(1).split(", ")]
        known = [n for n in names if n in self._names]
        return f"{problem}; expected {' or '.join(known)}" if known else problem

    def _known(self, name: str, what: str = "element") -> str:
        return name if name in self._names else f"(an unknown {what})"


def _compile(xsd_path: Path) -> tuple[etree.XMLSchema, frozenset[str]]:
    try:
        # Read here, not by libxml2: its loader goes through the resolver, which refuses all.
        xsd = etree.fromstring(xsd_path.read_bytes(), _hardened_parser())
        schema = etree.XMLSchema(xsd)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        # Our own file is broken or missing: a fault of the deployment, not of any message.
        raise HubError(f"cannot compile {xsd_path.name}: {exc}") from exc
    declared = xsd.iter(f"{_XSD}element", f"{_XSD}attribute")
    return schema, frozenset(str(e.get("name")) for e in declared if e.get("name"))


def _check_declared_encoding(raw: bytes) -> None:
    declared = _XML_DECLARATION.match(raw.removeprefix(_UTF8_BOM))
    if declared is not None and declared.group(1).decode().lower() not in _UTF8_NAMES:
        raise InputRejected(
            "document declares an encoding other than UTF-8; the contract is UTF-8",
            reason=Reason.INVALID_ENCODING,
        )


def _refuse_dtd_markers(raw: bytes) -> None:
    # Valid UTF-8 was checked above, so a DOCTYPE cannot hide behind another encoding. This
    # also refuses one inside a comment or CDATA section: no contract needs that text there.
    for marker in _DTD_MARKERS:
        if marker in raw:
            raise InputRejected(
                f"document contains {marker.decode()}: DTDs and entities are not accepted",
                reason=Reason.FORBIDDEN_DTD,
            )


def _parse(raw: bytes) -> etree._Element:
    try:
        return etree.fromstring(raw, _hardened_parser())
    except _ExternalResourceRequested as exc:
        raise InputRejected(
            "document asks for an external resource", reason=Reason.FORBIDDEN_DTD
        ) from exc
    except etree.XMLSyntaxError as exc:
        # The message quotes names and text of the document; its code and position do not.
        line, column = exc.position
        code: int = exc.code  # type: ignore[attr-defined]  # in lxml, not in lxml-stubs 0.5.1
        kind = etree.ErrorTypes._getName(code, "error").lower().removeprefix("err_")
        raise InputRejected(
            f"not well-formed XML at line {line}, column {column} ({kind})",
            reason=Reason.INVALID_XML,
        ) from exc


def _refuse_dtd_in_tree(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    doctype: str = docinfo.doctype  # type: ignore[attr-defined]  # in lxml, not in lxml-stubs 0.5.1
    has_dtd = doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None
    if has_dtd or next(root.iter(etree.Entity), None) is not None:
        raise InputRejected(
            "document has a DTD or an entity reference", reason=Reason.FORBIDDEN_DTD
        )
