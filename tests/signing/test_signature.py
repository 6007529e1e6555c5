"""The signature format and every way `schemas.signature.verify` refuses a record."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.signing.signer import Signer
from schemas.errors import Reason, SignatureRejected
from schemas.signature import (
    BadSignature,
    ClaimsMismatch,
    InvalidJwks,
    MalformedSignature,
    MissingSignature,
    UnknownKey,
    WrongAlgorithm,
    b64url,
    signing_input,
    thumbprint,
    unverified_header,
    verify,
)
from tests.signing.conftest import NOW, forge, header_of

VALUE = '{"id":"id-1","name":"Åse Ødegård"}'.encode()


def test_a_signature_verifies_and_names_its_claims(signer: Signer, jwks: dict[str, Any]) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    claims = verify(VALUE, header, jwks, expected_id="id-1", expected_type="t.v1")
    assert (claims.kid, claims.message_id, claims.message_type) == (signer.kid, "id-1", "t.v1")
    assert claims.issued_at == NOW


def test_the_header_is_detached_with_an_unencoded_payload(signer: Signer) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    protected, payload, _ = header.split(".")
    assert payload == "", "the value travels as the record value, not in the header"
    assert unverified_header(header) == header_of(signer)
    assert json.loads(base64.urlsafe_b64decode(protected + "==")) == header_of(signer)


def test_the_kid_is_the_rfc7638_thumbprint(signer: Signer) -> None:
    jwk = signer.public_jwk
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"))
    expected = b64url(hashlib.sha256(members.encode()).digest())
    assert signer.kid == thumbprint(jwk) == expected


def test_the_signing_input_is_the_documented_byte_order() -> None:
    assert signing_input(b"eyJhIjoxfQ", b"\x00value") == b"eyJhIjoxfQ.\x00value"


@pytest.mark.parametrize("header", [None, "", b""])
def test_no_signature_is_refused(header: Any, jwks: dict[str, Any]) -> None:
    with pytest.raises(MissingSignature) as caught:
        verify(VALUE, header, jwks)
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_one_flipped_byte_in_the_value_is_refused(signer: Signer, jwks: dict[str, Any]) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    flipped = bytes([VALUE[0] ^ 0x01]) + VALUE[1:]
    with pytest.raises(BadSignature) as caught:
        verify(flipped, header, jwks)
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_a_header_taken_from_another_record_is_refused(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    other = signer.sign(b'{"id":"id-2"}', message_id="id-2", message_type="t.v1")
    with pytest.raises(BadSignature):
        verify(VALUE, other, jwks)


def test_a_valid_signature_for_another_id_or_type_is_refused(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    with pytest.raises(ClaimsMismatch):
        verify(VALUE, header, jwks, expected_id="id-2")
    with pytest.raises(ClaimsMismatch) as caught:
        verify(VALUE, header, jwks, expected_type="t.v2")
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_an_unknown_kid_is_refused_with_its_own_reason(signer: Signer) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    stranger = Signer(Ed25519PrivateKey.generate())
    with pytest.raises(UnknownKey) as caught:
        verify(VALUE, header, {"keys": [stranger.public_jwk]})
    assert caught.value.reason is Reason.UNKNOWN_KEY


def test_a_key_with_the_right_kid_but_another_public_key_does_not_verify(signer: Signer) -> None:
    impostor = dict(Signer(Ed25519PrivateKey.generate()).public_jwk, kid=signer.kid)
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    with pytest.raises(BadSignature):
        verify(VALUE, header, {"keys": [impostor]})


@pytest.mark.parametrize("alg", ["EdDSA", "HS256", "RS256", "none", "ed25519", None])
def test_every_algorithm_but_ed25519_is_refused(
    alg: str | None, key: Ed25519PrivateKey, signer: Signer, jwks: dict[str, Any]
) -> None:
    # Signed with the very key the JWKS holds: only the alg is wrong.
    header = forge(key, header_of(signer, alg=alg), VALUE)
    with pytest.raises(WrongAlgorithm):
        verify(VALUE, header, jwks)


def test_hmac_with_the_public_key_as_secret_is_refused(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    # The classic confusion: an attacker "signs" with HS256, using the public key as secret.
    secret = base64.urlsafe_b64decode(signer.public_jwk["x"] + "=")
    encoded = b64url(json.dumps(header_of(signer, alg="HS256")).encode()).encode()
    mac = hmac.new(secret, signing_input(encoded, VALUE), hashlib.sha256).digest()
    with pytest.raises(WrongAlgorithm):
        verify(VALUE, f"{encoded.decode()}..{b64url(mac)}", jwks)


@pytest.mark.parametrize(
    "changes",
    [
        {"b64": True},
        {"crit": []},
        {"crit": ["b64", "exp"]},
        {"kid": 7},
        {"hub_id": ""},
        {"iat": "2026-11-23"},
        {"iat": True},
    ],
)
def test_headers_not_of_the_hubs_form_are_refused(
    changes: dict[str, Any], key: Ed25519PrivateKey, signer: Signer, jwks: dict[str, Any]
) -> None:
    with pytest.raises(MalformedSignature):
        verify(VALUE, forge(key, header_of(signer, **changes), VALUE), jwks)


def test_members_the_hub_does_not_know_are_ignored_as_rfc7515_asks(
    key: Ed25519PrivateKey, signer: Signer, jwks: dict[str, Any]
) -> None:
    header = forge(key, header_of(signer, x_future="yes"), VALUE)
    assert verify(VALUE, header, jwks).message_id == "id-1"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: h.replace("..", ".e30.", 1),  # an attached payload
        lambda h: h + ".x",
        lambda h: h.replace("..", "."),
        lambda h: "!" + h,
        lambda h: h[:-2],  # a signature of the wrong length
        lambda h: h[:-1] + ("B" if h[-1] == "A" else "A"),  # non-canonical last character
    ],
)
def test_malformed_serializations_are_refused(
    mangle: Any, signer: Signer, jwks: dict[str, Any]
) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    with pytest.raises(SignatureRejected):
        verify(VALUE, mangle(header), jwks)


def test_duplicate_members_in_the_protected_header_are_refused(
    key: Ed25519PrivateKey, signer: Signer, jwks: dict[str, Any]
) -> None:
    text = json.dumps(header_of(signer))[:-1] + ', "alg": "Ed25519"}'
    encoded = b64url(text.encode()).encode()
    header = f"{encoded.decode()}..{b64url(key.sign(signing_input(encoded, VALUE)))}"
    with pytest.raises(MalformedSignature):
        verify(VALUE, header, jwks)


def test_jwks_keys_of_other_kinds_are_left_out_and_a_broken_set_is_a_setup_error(
    signer: Signer,
) -> None:
    rsa_like = {"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}
    enc_only = dict(signer.public_jwk, kid="enc", use="enc")
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    assert verify(VALUE, header, {"keys": [rsa_like, enc_only, signer.public_jwk]})
    with pytest.raises(InvalidJwks):
        verify(VALUE, header, {"keys": "nope"})
    with pytest.raises(InvalidJwks):
        verify(VALUE, header, {"keys": [signer.public_jwk, signer.public_jwk]})
