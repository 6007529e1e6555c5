"""The hub's signatures, checked by an independent JOSE implementation (joserfc) that is given
nothing but the published JWKS: what a recipient with another library would do."""

from __future__ import annotations

import base64
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError, SecurityWarning
from joserfc.jwk import KeySet, OctKey, OKPKey
from joserfc.registry import HeaderParameter

from hub.signing.signer import Signer
from schemas.signature import WrongAlgorithm, verify
from tests.signing.conftest import forge, header_of

VALUE = b'{"id":"id-1","type":"t.v1","subject":"pk-00"}'

# A recipient tells its library about the hub's header members and allows Ed25519 alone.
RECIPIENT_REGISTRY = jws.JWSRegistry(
    header_registry={
        "hub_id": HeaderParameter("message id", "str", required=True),
        "hub_type": HeaderParameter("message type", "str", required=True),
        "iat": HeaderParameter("issued at", "int", required=True),
    },
    algorithms=["Ed25519"],
)


def joserfc_verify(value: bytes, header: str, jwks: dict[str, Any]) -> dict[str, Any]:
    keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]  # joserfc wants its own TypedDict; this is the same JSON
    signed = jws.deserialize_compact(header, keys, registry=RECIPIENT_REGISTRY, payload=value)
    assert signed.payload == value
    return signed.headers()


def test_joserfc_verifies_the_hubs_signature_with_only_the_jwks(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    claims = joserfc_verify(VALUE, header, jwks)
    assert claims["alg"] == "Ed25519"
    assert claims["kid"] == signer.kid
    assert (claims["hub_id"], claims["hub_type"]) == ("id-1", "t.v1")


def test_joserfc_refuses_one_flipped_byte(signer: Signer, jwks: dict[str, Any]) -> None:
    header = signer.sign(VALUE, message_id="id-1", message_type="t.v1")
    flipped = VALUE[:5] + bytes([VALUE[5] ^ 0x20]) + VALUE[6:]
    with pytest.raises(BadSignatureError):
        joserfc_verify(flipped, header, jwks)


def test_joserfc_refuses_a_header_swapped_from_another_record(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    other = signer.sign(b'{"id":"id-2"}', message_id="id-2", message_type="t.v1")
    with pytest.raises(BadSignatureError):
        joserfc_verify(VALUE, other, jwks)


def test_an_eddsa_signature_joserfc_makes_is_refused_by_both(
    key: Ed25519PrivateKey, signer: Signer, jwks: dict[str, Any]
) -> None:
    # A genuine signature by the right key under the older, polymorphic "EdDSA" name.
    header = forge(key, header_of(signer, alg="EdDSA"), VALUE)
    with pytest.raises(JoseError):
        joserfc_verify(VALUE, header, jwks)
    with pytest.raises(WrongAlgorithm):
        verify(VALUE, header, jwks)


def test_an_hs256_signature_is_refused_by_both(signer: Signer, jwks: dict[str, Any]) -> None:
    # The classic confusion: the public key's raw bytes used as an HMAC secret.
    secret = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "=")
    hs_registry = jws.JWSRegistry(header_registry=RECIPIENT_REGISTRY.header_registry)
    protected = {k: v for k, v in header_of(signer, alg="HS256").items() if k != "crit"}
    protected |= {"b64": False, "crit": ["b64"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        token = jws.serialize_compact(
            protected, VALUE, OctKey.import_key(secret), registry=hs_registry
        )
    header = token if ".." in token else _detach(token)
    with pytest.raises(JoseError):
        joserfc_verify(VALUE, header, jwks)
    with pytest.raises(WrongAlgorithm):
        verify(VALUE, header, jwks)


def test_our_verifier_accepts_what_joserfc_signs(key: Ed25519PrivateKey) -> None:
    # The other direction: a detached Ed25519 JWS written by joserfc verifies here.
    private = OKPKey.import_key(key)
    public_jwk = private.as_dict(private=False)
    protected = header_of(Signer(key))
    token = jws.serialize_compact(protected, VALUE, private, registry=RECIPIENT_REGISTRY)
    claims = verify(VALUE, token, {"keys": [public_jwk]}, expected_id="id-1")
    assert claims.kid == Signer(key).kid


def _detach(token: str) -> str:
    protected, _, signature = token.split(".")
    return f"{protected}..{signature}"
