"""Real Ed25519 keys, made per test, and a way to write JWS headers the hub never would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.signing.signer import Signer
from schemas.signature import b64url, signing_input

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signer(key: Ed25519PrivateKey) -> Signer:
    return Signer(key, clock=lambda: NOW)


@pytest.fixture
def jwks(signer: Signer) -> dict[str, Any]:
    return {"keys": [signer.public_jwk]}


def forge(key: Ed25519PrivateKey, header: dict[str, Any], value: bytes) -> str:
    """A detached JWS with any protected header, signed with a real key."""
    encoded = b64url(json.dumps(header).encode()).encode()
    return f"{encoded.decode()}..{b64url(key.sign(signing_input(encoded, value)))}"


def header_of(signer: Signer, **changes: Any) -> dict[str, Any]:
    """The protected header the hub writes, with `changes`."""
    base = {
        "alg": "Ed25519",
        "b64": False,
        "crit": ["b64"],
        "kid": signer.kid,
        "hub_id": "id-1",
        "hub_type": "t.v1",
        "iat": int(NOW.timestamp()),
    }
    return {**base, **changes}
