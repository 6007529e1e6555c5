"""Identity numbers are masked however they are spaced, and names in documents whatever their
shape; what cannot be personal (codes, ids, dates, timestamps, offsets) stays readable."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.privacy import HIDDEN, MASK, mask_document, mask_text, mask_token
from tests.identities import FUTURE_DNR, SYNTHETIC_DNR, SYNTHETIC_FNR
from tests.samples.hostile import BASE_DOCUMENT

NUMBERS = (SYNTHETIC_FNR, SYNTHETIC_DNR, FUTURE_DNR)
SEPARATORS = (" ", "-", ".", "\u00a0", "\u202f", "\t", "\u2013", "/", "_", " - ", ". ", "  ")


@st.composite
def spaced(draw: st.DrawFn) -> str:
    """An identity number cut anywhere into groups, joined by any separators."""
    number = draw(st.sampled_from(NUMBERS))
    cuts = sorted(draw(st.sets(st.integers(1, 10), max_size=10)))
    groups = [number[a:b] for a, b in zip([0, *cuts], [*cuts, 11], strict=True)]
    out = groups[0]
    for group in groups[1:]:
        out += draw(st.sampled_from(SEPARATORS)) + group
    return out


@pytest.mark.parametrize(
    "written",
    [
        "128385 45619",
        "128385-45619",
        "128385\u00a045619",
        "12 83 85 45619",
        "12.83.85.456.19",
        "128385 - 45619",
        "".join(chr(0xFF10 + int(d)) for d in "12838545619"),  # full-width digits
    ],
)
def test_the_reproduced_spellings_are_masked(written: str) -> None:
    assert mask_text(f"person {written} refused") == f"person {MASK} refused"


@settings(max_examples=300, deadline=None)
@given(
    spaced(),
    st.sampled_from(["", "id ", "x", "nr:", "(", "'"]),
    st.sampled_from(["", ".", " ok", ")", "'"]),
)
def test_any_spacing_of_a_number_is_masked(written: str, before: str, after: str) -> None:
    masked = mask_text(before + written + after)
    digits = "".join(c for c in masked if c.isdigit())
    assert not any(number in digits for number in NUMBERS)
    assert MASK in masked


def test_a_number_glued_to_other_digits_is_masked() -> None:
    assert SYNTHETIC_FNR not in mask_text(f"tel 22 33 44 55 {SYNTHETIC_FNR}")
    assert SYNTHETIC_FNR[:6] not in mask_text(f"ref 9{SYNTHETIC_FNR}7")
    mistyped = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    assert mistyped not in mask_text(f"{mistyped} {mistyped}")


def test_a_mistyped_number_is_masked_however_cut() -> None:
    mistyped = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    for written in (mistyped, f"{mistyped[:6]} {mistyped[6:]}", f"{mistyped[:4]}-{mistyped[4:]}"):
        assert mask_text(written) == MASK


def test_ids_a_source_chose_are_shown_only_when_they_cannot_be_a_name_or_number() -> None:
    assert mask_token("KODA-2026-0000105") == "KODA-2026-0000105"
    assert mask_token("corr-12838545619") == "corr-" + MASK
    assert mask_token("Kari") == HIDDEN
    assert mask_token("1283854561012838545610") == HIDDEN


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06T01:32:01.123456+00:00",
        "2026-12-06 01:32:01",
        "offset 123456789012 of partition 3",
        "epoch 1765000000000",
        "8d0c5a4e-2f51-4f57-9a3c-6b1f0e7d2c11",
        "took 0.123456 s for 4500 records",
        "KODA-2026-0000105",  # 11 digits, but cut where no one cuts a number, and no date
        "POL-OSLO-2025-118842",
    ],
)
def test_timestamps_offsets_and_ids_stay_readable(text: str) -> None:
    assert mask_text(text) == text


def test_a_quote_libxml2_never_closed_hides_the_rest() -> None:
    cut = "Element 'Fornavn': The value 'Kari Nordmann " + "Kari " * 20000
    assert "Kari" not in mask_text(cut)


# Documents for operators' views: masked by structure.

NAMES = ("Kari", "Nordmann")


def _koda(person: str) -> bytes:
    return BASE_DOCUMENT.replace(
        "<Fornavn>Kari</Fornavn>\n    <Etternavn>Nordmann</Etternavn>", person
    ).encode()


@pytest.mark.parametrize(
    "person",
    [
        "<Fornavn>Kari</Fornavn><Etternavn>Nordmann</Etternavn>",
        "<Fornavn><![CDATA[Kari]]></Fornavn><Etternavn><![CDATA[Nordmann]]></Etternavn>",
        "<Fornavn>Ka<!-- split -->ri</Fornavn><Etternavn>Nord<!---->mann</Etternavn>",
        "<Fornavnn>Kari</Fornavnn><Etternavm>Nordmann</Etternavm>",  # misspelt
        "<Kari>Nordmann</Kari>",  # named after the person
        "<Fornavn navn='Kari'>x</Fornavn><Etternavn Nordmann='1'/>",
        "<!-- Kari Nordmann --><?note Kari Nordmann?>",
        "<Fornavn>Kari</Fornavn><Etternavn>Nordmann",  # cut short
    ],
)
def test_names_in_any_xml_shape_are_masked(person: str) -> None:
    shown = mask_document(_koda(person))
    assert not any(name in shown for name in NAMES)
    assert SYNTHETIC_FNR not in shown
    assert "<HendelseId>HOSTILE-1</HendelseId>" in shown, "ids stay readable"
    assert "<Dato>2026-12-14</Dato>" in shown, "dates stay readable"
    assert "<Gjennomforingsform>FENGSEL_LAV</Gjennomforingsform>" in shown, "codes too"


def test_a_name_in_a_code_or_id_field_is_masked() -> None:
    raw = BASE_DOCUMENT.replace("LOSLATELSE</Hendelsestype>", "Kari</Hendelsestype>")
    raw = raw.replace("HOSTILE-1</HendelseId>", "Nordmann</HendelseId>")
    shown = mask_document(raw.encode())
    assert not any(name in shown for name in NAMES)


POLICE = json.dumps(
    {
        "eventId": "POL-OSLO-2025-118842",
        "occurredAt": "2025-10-02T14:02:00+02:00",
        "eventType": "CUSTODY_STARTED",
        "person": {"nationalId": SYNTHETIC_FNR, "firstName": "Kari", "lastName": "Nordmann"},
    }
)


@pytest.mark.parametrize(
    "raw",
    [
        POLICE,
        POLICE.replace('"firstName"', '"\\u0066irstName"').replace(
            '"lastName"', '"l\\u0061stName"'
        ),
        POLICE.replace('"firstName"', '"fristName"').replace('"lastName"', '"Kari Nordmann"'),
        POLICE.replace('"Kari"', '"\\u004bari"').replace('"Nordmann"', '"N\\u006frdmann"'),
        POLICE.replace('"Kari"', '["Kari", {"x": "Nordmann"}]'),
        POLICE[: POLICE.index("Nordmann") + 4],  # cut short
        POLICE.replace(SYNTHETIC_FNR, "128385 45619").replace("{", "{,", 1),  # not well-formed
    ],
)
def test_names_in_any_json_shape_are_masked(raw: str) -> None:
    shown = mask_document(raw.encode())
    assert not any(name in shown for name in NAMES)
    assert "Nord" not in shown
    assert SYNTHETIC_FNR not in shown
    assert "45619" not in shown
    assert "POL-OSLO-2025-118842" in shown
    assert "CUSTODY_STARTED" in shown


def test_what_is_neither_xml_nor_json_is_hidden() -> None:
    assert "Kari" not in mask_document(b"Kari Nordmann, 12838545619")


def test_namespace_prefixes_are_hidden_and_deep_json_does_not_break_the_view() -> None:
    shown = mask_document(
        b'<Zqkari:Hendelse xmlns:Zqkari="urn:x"><Zqkari:Dato>2026-01-01</Zqkari:Dato>'
        b"</Zqkari:Hendelse>"
    )
    assert "Zqkari" not in shown
    assert "2026-01-01" in shown
    deep = b'{"a": ' * 50_000 + b'"Zqkari"' + b"}" * 50_000
    assert "Zqkari" not in mask_document(deep)
