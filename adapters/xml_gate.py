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
Details name the element and the rule that failed, with the offending value masked.
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
# libxml2 quotes the offending value in validation messages; the value may be a name or an
# identity number, and the element and rule are what an operator needs.
_QUOTED_VALUES: Final = (
    (re.compile(r"The value '.*?' (?=is |has )", re.DOTALL), "The value '***' "),
    (re.compile(r"(?<=: )'.*?' (?=is not a valid value)", re.DOTALL), "'***' "),
)
_MAX_ERRORS_SHOWN: Final = 3
# Details travel in dead-letter headers; names and messages echo the input, which may be huge.
_MAX_ECHO: Final = 200


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
        self._schema = _compile(xsd_path)

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
            shown = "no namespace" if namespace is None else f"namespace {_clip(namespace)}"
            raise InputRejected(
                f"root element is in {shown}, expected {self._namespace}",
                reason=Reason.WRONG_NAMESPACE,
            )
        if root.tag != self._root_tag:
            raise InputRejected(
                f"root element is {_clip(etree.QName(root).localname)}, "
                f"expected {etree.QName(self._root_tag).localname}",
                reason=Reason.SCHEMA_VIOLATION,
            )

    def _validate(self, root: etree._Element) -> None:
        try:
            self._schema.assertValid(root)
        except etree.DocumentInvalid as exc:
            raise InputRejected(
                _describe_errors(exc.error_log, self._namespace), reason=Reason.SCHEMA_VIOLATION
            ) from exc


def _compile(xsd_path: Path) -> etree.XMLSchema:
    try:
        # Read here, not by libxml2: its loader goes through the resolver, which refuses all.
        xsd = etree.fromstring(xsd_path.read_bytes(), _hardened_parser())
        return etree.XMLSchema(xsd)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        # Our own file is broken or missing: a fault of the deployment, not of any message.
        raise HubError(f"cannot compile {xsd_path.name}: {exc}") from exc


def _check_declared_encoding(raw: bytes) -> None:
    declared = _XML_DECLARATION.match(raw.removeprefix(_UTF8_BOM))
    if declared is not None and declared.group(1).decode().lower() not in _UTF8_NAMES:
        raise InputRejected(
            f"document declares encoding {declared.group(1).decode()!r}; the contract is UTF-8",
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
        raise InputRejected(
            f"not well-formed XML: {_clip(exc.msg)}", reason=Reason.INVALID_XML
        ) from exc


def _refuse_dtd_in_tree(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    doctype: str = docinfo.doctype  # type: ignore[attr-defined]  # in lxml, not in lxml-stubs 0.5.1
    has_dtd = doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None
    if has_dtd or next(root.iter(etree.Entity), None) is not None:
        raise InputRejected(
            "document has a DTD or an entity reference", reason=Reason.FORBIDDEN_DTD
        )


def _describe_errors(log: etree._ListErrorLog, namespace: str) -> str:
    errors = list(log)
    shown = "; ".join(_describe_error(e, namespace) for e in errors[:_MAX_ERRORS_SHOWN])
    more = len(errors) - _MAX_ERRORS_SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def _describe_error(error: etree._LogEntry, namespace: str) -> str:
    message = error.message.replace(f"{{{namespace}}}", "")
    for pattern, replacement in _QUOTED_VALUES:
        message = pattern.sub(replacement, message)
    return f"line {error.line}: {_clip(message)}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
