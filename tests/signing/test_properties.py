"""Property: no single-byte change to a signed value or to its signature header verifies."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.signing.signer import Signer
from schemas.errors import SignatureRejected
from schemas.signature import ALGORITHM, encode_protected, verify

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
