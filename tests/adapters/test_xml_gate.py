from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from adapters import xml_gate
from adapters.xml_gate import XmlGate
from schemas.errors import HubError, InputRejected, Reason
from schemas.xsd import KODA_HENDELSE_V1
from tests.samples.hostile import BASE_DOCUMENT, Hostile, hostile_documents
from tests.tripwires import FileTripwire, file_tripwire, tcp_tripwire

NAMESPACE = "urn:no:kriminalomsorgen:koda:hendelse:v1"
LIMIT = 1024 * 1024
SECRET = b"<!-- TRIPWIRE-SECRET-7f3a9c -->"


@pytest.fixture(scope="module")
def gate() -> XmlGate:
    return XmlGate(KODA_HENDELSE_V1, namespace=NAMESPACE, root_element="Hendelse")


@pytest.fixture
def watched_file(tmp_path: Path) -> Iterator[FileTripwire]:
    with file_tripwire(tmp_path, SECRET) as wire:
        yield wire


def rejection(gate: XmlGate, raw: bytes, max_bytes: int = LIMIT) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        gate.check(raw, max_bytes=max_bytes)
    return caught.value


def test_a_valid_document_passes(gate: XmlGate) -> None:
    root = gate.check(BASE_DOCUMENT.encode(), max_bytes=LIMIT)
    assert root.tag == f"{{{NAMESPACE}}}Hendelse"


@pytest.mark.parametrize("hostile", hostile_documents(), ids=lambda h: h.name)
def test_each_hostile_document_is_refused_with_its_reason(gate: XmlGate, hostile: Hostile) -> None:
    assert rejection(gate, hostile.raw).reason is hostile.reason


def test_hostile_documents_read_no_file_and_connect_nowhere(
    gate: XmlGate, watched_file: FileTripwire
) -> None:
    with tcp_tripwire() as wire:
        for hostile in hostile_documents(target_file=str(watched_file.path), url=wire.url):
            error = rejection(gate, hostile.raw)
            assert SECRET.decode() not in repr(error) + str(error.__cause__)
    assert not watched_file.opened.is_set()
    assert wire.connections == []


def _parse_without_prescan(raw: bytes) -> str:
    # The DOCTYPE pre-scan stops these before libxml2 sees them; this proves the parser's own
    # settings would be enough without it.
    try:
        root = etree.fromstring(raw, xml_gate._hardened_parser())
    except Exception as exc:  # noqa: BLE001 - any refusal is fine; the tripwires are the test
        return repr(exc)
    return etree.tostring(root.getroottree()).decode()


def test_the_parser_alone_reads_no_file_and_connects_nowhere(watched_file: FileTripwire) -> None:
    with tcp_tripwire() as wire:
        outputs = [
            _parse_without_prescan(h.raw)
            for h in hostile_documents(target_file=str(watched_file.path), url=wire.url)
            if h.reason is Reason.FORBIDDEN_DTD
        ]
    assert not watched_file.opened.is_set()
    assert wire.connections == []
    assert all(SECRET.decode() not in output for output in outputs)
    assert all("lollollol" not in output for output in outputs)


def test_the_parser_alone_leaves_an_ordinary_file_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOP-SECRET-CONTENT-5e1d")
    for hostile in hostile_documents(target_file=str(secret)):
        assert "TOP-SECRET-CONTENT-5e1d" not in _parse_without_prescan(hostile.raw)


def test_control_the_file_tripwire_sees_an_unsafe_parser(watched_file: FileTripwire) -> None:
    unsafe = etree.XMLParser(load_dtd=True)
    doctype = f'<!DOCTYPE r SYSTEM "file://{watched_file.path}">'
    etree.fromstring(f"<?xml version='1.0'?>{doctype}<r/>".encode(), unsafe)
    assert watched_file.opened.is_set()


def test_control_the_tcp_tripwire_sees_a_connection() -> None:
    with tcp_tripwire() as wire:
        port = int(wire.url.split(":")[2].split("/")[0])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert len(wire.connections) == 1


def test_control_collect_ids_false_would_open_an_external_dtd(watched_file: FileTripwire) -> None:
    # Why the gate does not set collect_ids=False (see the module docstring).
    looks_safe = etree.XMLParser(resolve_entities=False, load_dtd=False, collect_ids=False)
    doctype = f'<!DOCTYPE r SYSTEM "file://{watched_file.path}">'
    etree.fromstring(f"<?xml version='1.0'?>{doctype}<r/>".encode(), looks_safe)
    assert watched_file.opened.is_set()


def test_size_is_checked_before_anything_else(gate: XmlGate) -> None:
    raw = BASE_DOCUMENT.encode()
    assert gate.check(raw, max_bytes=len(raw)) is not None
    error = rejection(gate, b"\xff<!DOCTYPE" + raw, max_bytes=len(raw))
    assert error.reason is Reason.TOO_LARGE
    assert str(len(raw)) in error.detail


@pytest.mark.parametrize("raw", [b"", b"  \n\t ", b"\r\n"])
def test_empty_documents(gate: XmlGate, raw: bytes) -> None:
    assert rejection(gate, raw).reason is Reason.EMPTY_DOCUMENT


def test_a_utf8_byte_order_mark_is_fine(gate: XmlGate) -> None:
    gate.check(b"\xef\xbb\xbf" + BASE_DOCUMENT.encode(), max_bytes=LIMIT)


@pytest.mark.parametrize("name", ["utf-8", "UTF8", "Utf-8"])
def test_any_spelling_of_utf8_may_be_declared(gate: XmlGate, name: str) -> None:
    gate.check(BASE_DOCUMENT.replace("UTF-8", name).encode(), max_bytes=LIMIT)


def test_invalid_encoding_is_translated_from_the_decode_error(gate: XmlGate) -> None:
    error = rejection(gate, BASE_DOCUMENT.encode().replace(b"Kari", b"K\xe5ri"))
    assert error.reason is Reason.INVALID_ENCODING
    assert isinstance(error.__cause__, UnicodeDecodeError)


@pytest.mark.parametrize(
    "raw",
    [
        BASE_DOCUMENT.encode()[:-30],
        b"<Hendelse>",
        b"not xml at all",
        BASE_DOCUMENT.replace("<Fornavn>Kari</Fornavn>", "<Fornavn>Kari</Etternavn>").encode(),
        BASE_DOCUMENT.replace("Kari", "&undefined;").encode(),
        b"\n" + BASE_DOCUMENT.encode(),  # the declaration must come first
    ],
)
def test_not_well_formed(gate: XmlGate, raw: bytes) -> None:
    error = rejection(gate, raw)
    assert error.reason is Reason.INVALID_XML
    assert isinstance(error.__cause__, etree.XMLSyntaxError)


def test_a_dtd_inside_a_comment_is_refused_too(gate: XmlGate) -> None:
    raw = BASE_DOCUMENT.replace("<Person>", "<!-- <!DOCTYPE x> --><Person>").encode()
    assert rejection(gate, raw).reason is Reason.FORBIDDEN_DTD


def test_comments_and_processing_instructions_are_harmless(gate: XmlGate) -> None:
    raw = BASE_DOCUMENT.replace("<Person>", "<!-- note --><?app x?><Person>").encode()
    gate.check(raw, max_bytes=LIMIT)


def test_the_tree_check_refuses_what_the_prescan_would_have(tmp_path: Path) -> None:
    # Unreachable through `check` while the pre-scan is there; the second line must hold alone.
    permissive = etree.XMLParser(resolve_entities=False)
    for declarations in ("", '<!ENTITY e "x">'):
        raw = f"<!DOCTYPE r [{declarations}]><r>{'&e;' if declarations else ''}</r>".encode()
        with pytest.raises(InputRejected) as caught:
            xml_gate._refuse_dtd_in_tree(etree.fromstring(raw, permissive))
        assert caught.value.reason is Reason.FORBIDDEN_DTD


def test_the_right_namespace_with_the_wrong_root(gate: XmlGate) -> None:
    raw = f'<Melding xmlns="{NAMESPACE}" versjon="1"/>'.encode()
    error = rejection(gate, raw)
    assert error.reason is Reason.SCHEMA_VIOLATION
    # A root the XSD does not declare could be named anything, a person included.
    assert "Melding" not in error.detail
    assert "expected Hendelse" in error.detail


@pytest.mark.parametrize(
    ("old", "new", "mentions"),
    [
        ("<Status>PLANLAGT</Status>", "<Status>LØSLATT</Status>", "Status"),
        ("<Fornavn>Kari</Fornavn>", "<Fornavn>K4ri</Fornavn>", "Fornavn"),
        ("12838545619", "128385456190", "Fodselsnummer"),
        (' versjon="1"', ' versjon="2"', "versjon"),
        ("<Status>PLANLAGT</Status>", "", "Status"),
        ("+01:00</Registrert>", "</Registrert>", "Registrert"),
    ],
)
def test_schema_violations_name_the_element_not_the_value(
    gate: XmlGate, old: str, new: str, mentions: str
) -> None:
    error = rejection(gate, BASE_DOCUMENT.replace(old, new).encode())
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert isinstance(error.__cause__, etree.DocumentInvalid)
    assert mentions in error.detail
    assert NAMESPACE not in error.detail
    for value in ("LØSLATT", "K4ri", "128385456190", "2026-11-20T09:15:00"):
        assert value not in error.detail


def test_many_violations_are_summarised(gate: XmlGate) -> None:
    raw = BASE_DOCUMENT
    for element in ("Fornavn", "Etternavn", "Saksnummer", "Dato", "HendelseId"):
        raw = raw.replace(f"<{element}>", f"<{element}>#")
    error = rejection(gate, raw.encode())
    assert "more)" in error.detail


@pytest.mark.parametrize(
    "make_xsd",
    [
        lambda d: d / "missing.xsd",
        lambda d: _write(d / "broken.xsd", b"<xs:schema"),
        lambda d: _write(d / "not-a-schema.xsd", b"<root/>"),
    ],
)
def test_a_broken_xsd_is_a_hub_error_at_construction(
    tmp_path: Path, make_xsd: Callable[[Path], Path]
) -> None:
    with pytest.raises(HubError) as caught:
        XmlGate(make_xsd(tmp_path), namespace=NAMESPACE, root_element="Hendelse")
    assert not isinstance(caught.value, InputRejected)
    assert caught.value.reason is Reason.INTERNAL_ERROR


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (f'<Hendelse xmlns="urn:{"x" * 50_000}"/>'.encode(), Reason.WRONG_NAMESPACE),
        (f'<{"R" * 50_000} xmlns="{NAMESPACE}"/>'.encode(), Reason.SCHEMA_VIOLATION),
        (
            BASE_DOCUMENT.replace("<Person>", f"<{'P' * 50_000}/><Person>").encode(),
            Reason.SCHEMA_VIOLATION,
        ),
        (f"<{'a' * 50_000}></b>".encode(), Reason.INVALID_XML),
    ],
)
def test_details_stay_short_whatever_the_input_echoes(
    gate: XmlGate, raw: bytes, reason: Reason
) -> None:
    error = rejection(gate, raw)
    assert error.reason is reason
    assert len(error.detail) < 1000


@pytest.mark.parametrize(
    "raw",
    [
        # A misspelt element holding a name; an element named after the person.
        BASE_DOCUMENT.replace("<Fornavn>Kari</Fornavn>", "<Fornavnn>Kari</Fornavnn>"),
        BASE_DOCUMENT.replace("<Fornavn>Kari</Fornavn>", "<Kari>Kari</Kari>"),
        BASE_DOCUMENT.replace('<Enhet kode="1001"', '<Enhet Kari="Nordmann" kode="1001"'),
        BASE_DOCUMENT.replace('kode="1001"', 'kode="Kari Nordmann"'),
        # libxml2 cuts a message over ~64k characters, and with it the closing quote.
        BASE_DOCUMENT.replace("<Fornavn>Kari", "<Fornavn>Kari 1" + " Nordmann" * 10_000),
        BASE_DOCUMENT.replace("LOSLATELSE</Hendelsestype>", "Kari Nordmann</Hendelsestype>"),
        BASE_DOCUMENT.replace("12838545619", "128385 45619"),
        BASE_DOCUMENT.replace("<Fornavn>Kari</Fornavn>", "<Fornavn>Kari</Nordmann>"),
        '<Kari xmlns="urn:Nordmann"/>',
        '<?xml version="1.0" encoding="Kari-Nordmann"?><Hendelse/>',
    ],
)
def test_no_rejection_echoes_a_name_or_number_from_the_document(gate: XmlGate, raw: str) -> None:
    error = rejection(gate, raw.encode())
    for value in ("Kari", "Nordmann", "45619"):
        assert value not in str(error)
    assert len(str(error)) <= 600
