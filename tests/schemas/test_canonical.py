"""The fast canonical encoder writes exactly what the RFC 8785 reference writes, or refuses
what it refuses: signatures and audit hashes made before and after it stay valid."""

from __future__ import annotations

import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas.canonical
from schemas.canonical import canonical_json
from schemas.codec import encode
from schemas.events import EVENT_CLASSES, Envelope
from tests.events import make_event

# Characters where encoders part: escapes, the edge of the escaped range, a lone surrogate,
# and both sides of the place where code point order and UTF-16 order differ.
_TRICKY = st.sampled_from(
    [
        *("a", "B", "1", "é", "\x00", "\x08", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "\ud800"),
        *("\ue000", "\ufb33", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff"),
    ]
)
_TEXT = (
    st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x7F))
    | st.text(alphabet=_TRICKY, max_size=4)
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.integers()
    | st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 2**64, -(2**64)])
    | _TEXT
    | st.floats()  # NaN and infinities included: refused by both
)
_KEYS = st.text(max_size=8) | st.text(alphabet=_TRICKY, max_size=3)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(_KEYS, inner, max_size=5)
        | st.dictionaries(st.text(alphabet=_TRICKY, min_size=1, max_size=2), inner, max_size=6)
    ),
    max_leaves=30,
)


# rfc8785 refuses a lone surrogate in a key with the codec's own error, not its own.
_REFUSALS = (rfc8785.CanonicalizationError, UnicodeEncodeError)


def reference(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # any JSON-like value, as ours
    except _REFUSALS as exc:
        return type(exc)


def ours(value: object) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except _REFUSALS as exc:
        return type(exc)


@settings(max_examples=1000)
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
        {"nan": float("nan")},  # orjson would write null
        [float("inf")],
        1.5,
        {"s": "lone \ud800 surrogate"},  # not UTF-8: refused
        ("a", ["b"]),
        {"deep": [[[[[[[[[[1.5]]]]]]]]]]},
    ],
)
def test_the_edges_where_json_and_rfc8785_part(value: object) -> None:
    assert ours(value) == reference(value)


# RFC 8785, Appendix B: IEEE 754 doubles (as hex) and their canonical spelling.
_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), _NUMBERS)
def test_rfc8785_number_vectors(bits: str, expected: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json([number]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_refuses_nan_and_infinity(bits: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical_json({"n": number})


def test_rfc8785_sorting_vector() -> None:
    # RFC 8785, 3.2.3: keys in UTF-16 code unit order, so U+1F600 (a surrogate pair) before
    # U+FB33, though its code point is higher.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical_json(value) == expected.encode()


def test_rfc8785_serialization_vector() -> None:
    # RFC 8785, 3.2.2, as parsed: numbers in ECMAScript's spelling, minimal string escapes.
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode()


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_the_hubs_own_events_take_the_fast_path(
    cls: type[Envelope], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the hub encodes never needs the slow reference (the bench found it the largest
    cost per record), and is still what the reference writes."""
    value = make_event(cls).model_dump(mode="json")
    expected = rfc8785.dumps(value)

    def refuse(_: object) -> bytes:
        raise AssertionError("the reference encoder was used")

    monkeypatch.setattr(schemas.canonical.rfc8785, "dumps", refuse)
    assert encode(make_event(cls)) == expected
