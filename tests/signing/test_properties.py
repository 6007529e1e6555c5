"""Property: no single-byte change to a signed value or to its signature header verifies."""

from __future__ import annotations

import base64
import json

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hub.signing.signer import Signer
from schemas.errors import SignatureRejected
from schemas.signature import ALGORITHM, encode_protected, unverified_header, verify

SIGNER = Signer(Ed25519PrivateKey.generate())
JWKS = {"keys": [SIGNER.public_jwk]}


def mutate(data: bytes, index: int, new_byte: int) -> bytes:
    index %= len(data)
    if new_byte == data[index]:
        new_byte = (new_byte + 1) % 256
    return data[:index] + bytes([new_byte]) + data[index + 1 :]


def refused(value: bytes, header: bytes) -> bool:
    try:
        verify(value, header, JWKS, expected_id="id-1", expected_type="t.v1")
    except SignatureRejected:
        return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    value=st.binary(min_size=1, max_size=300), index=st.integers(0), new_byte=st.integers(0, 255)
)
def test_any_single_byte_change_to_the_value_is_refused(
    value: bytes, index: int, new_byte: int
) -> None:
    header = SIGNER.sign(value, message_id="id-1", message_type="t.v1").encode()
    assert not refused(value, header)
    assert refused(mutate(value, index, new_byte), header)


@settings(max_examples=500, deadline=None)
@given(value=st.binary(max_size=100), index=st.integers(0), new_byte=st.integers(0, 255))
def test_any_single_byte_change_to_the_header_is_refused(
    value: bytes, index: int, new_byte: int
) -> None:
    header = SIGNER.sign(value, message_id="id-1", message_type="t.v1").encode()
    assert refused(value, mutate(header, index, new_byte))


@settings(max_examples=300)
@given(st.text(), st.text(), st.text(), st.integers(min_value=-(2**60), max_value=2**60))
def test_the_protected_header_is_written_as_sorted_ascii_json_whatever_it_holds(
    kid: str, message_id: str, message_type: str, issued_at: int
) -> None:
    # What is signed is the header as written: one spelling, whichever encoder wrote it.
    header = {
        "alg": ALGORITHM,
        "b64": False,
        "crit": ["b64"],
        "kid": kid,
        "hub_id": message_id,
        "hub_type": message_type,
        "iat": issued_at,
    }
    expected = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    encoded = encode_protected(kid, message_id, message_type, issued_at)
    assert base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4)) == expected.encode()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _strict(raw: bytes) -> object:
    """The protected header as `json` reads it, refusing a member given twice anywhere."""

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError("duplicate")
        return dict(pairs)

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except ValueError:
        return SignatureRejected
    return header if isinstance(header, dict) else SignatureRejected


def _integers(value: object) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _integers(item)]
    if isinstance(value, list):
        return [n for item in value for n in _integers(item)]
    return []


@settings(max_examples=400, deadline=None)
@given(
    header=st.dictionaries(st.text(), _JSON, max_size=6),
    form=st.sampled_from(["hub", "spaced", "ascii", "twice", "twice-nested"]),
)
def test_a_protected_header_reads_the_same_whichever_parser_takes_it(
    header: dict[str, object], form: str
) -> None:
    # The hub's own form is read by orjson; anything else by `json`, member by member. Both
    # must give the same header, and refuse the same headers (a member given twice).
    if form in ("hub", "twice"):
        # orjson writes no integer beyond 64 bits; `json` does, in the other forms.
        assume(all(-(2**63) <= n < 2**64 for n in _integers(header)))
    if form == "hub":
        raw = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
    elif form == "spaced":
        raw = json.dumps(header, sort_keys=True).encode()
    elif form == "ascii":
        raw = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode()
    elif form == "twice":
        raw = orjson.dumps({**header, "a": 1}, option=orjson.OPT_SORT_KEYS)[:-1] + b',"a":2}'
    else:
        inner = orjson.dumps({"x": 1}, option=orjson.OPT_SORT_KEYS)[:-1] + b',"x":1}'
        raw = b'{"n":' + inner + b"}"
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    try:
        read: object = unverified_header(f"{encoded}..AAAA")
    except SignatureRejected:
        read = SignatureRejected
    assert read == _strict(raw)
