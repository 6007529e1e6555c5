"""The fast canonical encoder writes exactly what the RFC 8785 reference writes, or refuses
what it refuses: signatures and audit hashes made before and after it stay valid."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical import canonical_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.integers()
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x7F))
    | st.floats(allow_nan=False, allow_infinity=False)
)
_KEYS = st.text(max_size=8) | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=30,
)


def reference(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # any JSON-like value, as ours
    except rfc8785.CanonicalizationError as exc:
        return type(exc)


def ours(value: object) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except rfc8785.CanonicalizationError as exc:
        return type(exc)


@settings(max_examples=500)
@given(_VALUES)
def test_the_same_bytes_as_the_reference_for_any_value(value: object) -> None:
    assert ours(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": 'æøå \u2028 \x00\x1f\x7f "q" \\ / \t\n\r\b\f', "c": [True, None, -0]},
        {"\ue000": 1, "\U0001f600": 2},  # code points and UTF-16 order keys differently
        {"n": 2**53 - 1, "m": -(2**53) + 1},
        {"n": 2**53},  # beyond what JSON numbers carry exactly: refused
        {"f": 1.0, "g": 1e21, "h": 5e-7},  # ECMAScript's spelling of numbers
        {"s": "lone \ud800 surrogate"},  # not UTF-8: refused
        ("a", ["b"]),
    ],
)
def test_the_edges_where_json_and_rfc8785_part(value: object) -> None:
    assert ours(value) == reference(value)
