"""Identity numbers are masked however they are spaced; what is not one stays readable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.privacy import MASK, mask_text
from tests.identities import FUTURE_DNR, SYNTHETIC_DNR, SYNTHETIC_FNR

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


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06T01:32:01.123456+00:00",
        "2026-12-06 01:32:01",
        "offset 123456789012 of partition 3",
        "epoch 1765000000000",
        "8d0c5a4e-2f51-4f57-9a3c-6b1f0e7d2c11",
        "took 0.123456 s for 4500 records",
    ],
)
def test_timestamps_offsets_and_ids_stay_readable(text: str) -> None:
    assert mask_text(text) == text


def test_a_quote_libxml2_never_closed_hides_the_rest() -> None:
    cut = "Element 'Fornavn': The value 'Kari Nordmann " + "Kari " * 20000
    assert "Kari" not in mask_text(cut)
