"""The hub's signatures, and the one function a recipient needs to check them.

Every message the hub publishes carries, in the Kafka header `hub-signature`, a detached JWS
(RFC 7515 compact serialization) with the unencoded payload of RFC 7797, over the exact bytes
of the record's value:

    hub-signature = BASE64URL(protected) ".." BASE64URL(signature)

    protected     = a JSON object with these members (others are ignored, as RFC 7515 asks,
                    unless listed in "crit", which must name "b64" and nothing else):
        "alg":      "Ed25519"   the fully-specified algorithm of RFC 9864; nothing else verifies
        "b64":      false       RFC 7797: the payload is signed as it is, not base64url-encoded
        "crit":     ["b64"]     RFC 7797 requires b64 to be critical
        "kid":      the RFC 7638 thumbprint of the signing key's public JWK
        "hub_id":   the id of the message (canonical event id, recipient message id, ...)
        "hub_type": the type of the message (e.g. no.kriminalomsorgen.release.planned.v1)
        "iat":      the issue time, whole seconds since the epoch

    signature     = Ed25519 over the signing input, which is, byte for byte:
                    ASCII(BASE64URL(protected)) || "." || the record value

Binding the id and type into the protected header means a signature cannot be moved to another
record: its value would differ, and a record's own `hub-event-id`/`hub-event-type` headers would
not match the claims (pass them as `expected_id`/`expected_type`).

This module depends on the standard library, `cryptography` and `schemas.errors` only, so a
recipient can verify without running the hub:

    from schemas.signature import verify
    claims = verify(record.value, headers["hub-signature"], jwks,
                    expected_id=headers["hub-event-id"], expected_type=headers["hub-event-type"])

Every refusal is a `SignatureRejected` whose `reason` is `unknown_key` or `bad_signature`
(the dead-letter reason codes); the subclass says which check failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from schemas.errors import Reason, SignatureRejected

__all__ = [
    "ALGORITHM",
    "BadSignature",
    "ClaimsMismatch",
    "InvalidJwks",
    "MalformedSignature",
    "MissingSignature",
    "PublicKeys",
    "UnknownKey",
    "VerifiedClaims",
    "WrongAlgorithm",
    "b64url",
    "encode_protected",
    "okp_public_jwk",
    "signing_input",
    "thumbprint",
    "unverified_header",
    "verify",
]

ALGORITHM: Final = "Ed25519"
_MAX_HEADER_CHARS: Final = 4096
_B64URL: Final = re.compile(r"^[A-Za-z0-9_-]*$")


class BadSignature(SignatureRejected):
    """The signature does not verify over these bytes with the named key."""

    reason = Reason.BAD_SIGNATURE
    check = "signature"


class UnknownKey(SignatureRejected):
    """The `kid` names no Ed25519 key of the JWKS (never published, or not this hub's)."""

    reason = Reason.UNKNOWN_KEY
    check = "key"


class WrongAlgorithm(BadSignature):
    """An `alg` other than Ed25519: refused before any key is used."""

    check = "algorithm"


class ClaimsMismatch(BadSignature):
    """The signature is valid, but for another message id or type than this record's."""

    check = "claims"


class MalformedSignature(BadSignature):
    """Not a detached, unencoded-payload JWS of the hub's form."""

    check = "malformed"


class MissingSignature(BadSignature):
    """The record carries no signature at all."""

    check = "missing"


class InvalidJwks(ValueError):
    """The JWKS given to verify with is not a set of keys: a setup mistake, not a message's."""


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    """What a valid signature vouches for, besides the value bytes themselves."""

    kid: str
    message_id: str
    message_type: str
    issued_at: datetime


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedSignature(f"the {what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature(f"the {what} is not base64url") from exc
    # Only one spelling per value: otherwise the unused bits of the last character would let
    # anyone make a second, different-looking header that still verifies.
    if b64url(data) != text:
        raise MalformedSignature(f"the {what} is not canonical base64url")
    return data


def encode_protected(kid: str, message_id: str, message_type: str, issued_at: int) -> bytes:
    """BASE64URL of the protected header, as the hub writes it (sorted keys, no whitespace)."""
    header = {
        "alg": ALGORITHM,
        "b64": False,
        "crit": ["b64"],
        "kid": kid,
        "hub_id": message_id,
        "hub_type": message_type,
        "iat": issued_at,
    }
    return b64url(_header_json(header)).encode("ascii")


def _header_json(header: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, all but printable ASCII escaped: orjson writes the same
    bytes when the header's texts are printable ASCII and its number is an exact one (a test
    holds the two equal), and `json` writes the rest."""
    texts = (v for v in header.values() if isinstance(v, str))
    number = header["iat"]
    if all(_PRINTABLE.fullmatch(t) for t in texts) and 0 <= number <= _EXACT:
        return orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


_PRINTABLE: Final = re.compile(r"[ -~]*")
_EXACT: Final = 2**53 - 1


def signing_input(encoded_protected: bytes, value: bytes) -> bytes:
    """The bytes that are signed: ASCII(BASE64URL(protected)) || '.' || value (RFC 7797)."""
    return encoded_protected + b"." + value


def okp_public_jwk(raw_public_key: bytes) -> dict[str, str]:
    """The public JWK (RFC 8037) of a raw 32-byte Ed25519 key, with its thumbprint as `kid`."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public_key)}
    return {**jwk, "kid": thumbprint(jwk), "alg": ALGORITHM, "use": "sig"}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an OKP key: its required members, in order."""
    required = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    text = json.dumps(required, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


class PublicKeys:
    """The Ed25519 keys of a JWKS by `kid`. Keys of other types or uses are left out."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> PublicKeys:
        """Read a JWKS (`{"keys": [...]}`); raises `InvalidJwks` for a malformed set."""
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise InvalidJwks("a JWKS is an object with a list of keys under 'keys'")
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in entries:
            usable = _usable_key(jwk)
            if usable is None:
                continue
            kid, key = usable
            if kid in keys:
                raise InvalidJwks(f"the JWKS has two keys with kid {kid!r}")
            keys[kid] = key
        return cls(keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)


def _usable_key(jwk: Any) -> tuple[str, Ed25519PublicKey] | None:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        return None
    if "verify" not in jwk.get("key_ops", ["verify"]):
        return None
    x = jwk.get("x")
    try:
        raw = _b64url_decode(x, "JWK's x") if isinstance(x, str) else b""
    except MalformedSignature as exc:
        raise InvalidJwks("an Ed25519 JWK's x is not base64url") from exc
    if len(raw) != 32:
        raise InvalidJwks("an Ed25519 JWK's x must be 32 bytes")
    kid = jwk.get("kid")
    return (kid if isinstance(kid, str) else thumbprint(jwk)), Ed25519PublicKey.from_public_bytes(
        raw
    )


def unverified_header(header: str | bytes | None) -> dict[str, Any]:
    """The protected header of a signature, NOT verified: for display and diagnostics only."""
    encoded, _ = _split(header)
    return _parse_protected(encoded)


def verify(
    value: bytes,
    header: str | bytes | None,
    jwks: Mapping[str, Any] | PublicKeys,
    *,
    expected_id: str | None = None,
    expected_type: str | None = None,
) -> VerifiedClaims:
    """Check the hub's signature `header` over `value` with the keys of `jwks`.

    Returns the verified claims, or raises a `SignatureRejected`: `MissingSignature`,
    `MalformedSignature`, `WrongAlgorithm`, `UnknownKey`, `BadSignature` or `ClaimsMismatch`.
    """
    keys = jwks if isinstance(jwks, PublicKeys) else PublicKeys.from_jwks(jwks)
    encoded, encoded_signature = _split(header)
    claims = _claims(_parse_protected(encoded))
    signature = _signature_bytes(encoded_signature)
    key = keys.get(claims.kid)
    if key is None:
        raise UnknownKey(f"no Ed25519 key with kid {claims.kid!r} in the JWKS")
    try:
        key.verify(signature, signing_input(encoded.encode("ascii"), value))
    except InvalidSignature as exc:
        raise BadSignature(f"the signature does not match the value (kid {claims.kid})") from exc
    _check_expected("id", claims.message_id, expected_id)
    _check_expected("type", claims.message_type, expected_type)
    return claims


def _split(header: str | bytes | None) -> tuple[str, str]:
    if header is None or header in ("", b""):
        raise MissingSignature("the record carries no signature")
    try:
        text = header.decode("ascii") if isinstance(header, bytes) else header
    except UnicodeDecodeError as exc:
        raise MalformedSignature("the signature is not ASCII") from exc
    if len(text) > _MAX_HEADER_CHARS:
        raise MalformedSignature("the signature is too long")
    parts = text.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise MalformedSignature("not a detached JWS (expected 'protected..signature')")
    return parts[0], parts[2]


def _signature_bytes(encoded: str) -> bytes:
    signature = _b64url_decode(encoded, "signature")
    if len(signature) != 64:
        raise MalformedSignature("an Ed25519 signature is 64 bytes")
    return signature


def _parse_protected(encoded: str) -> dict[str, Any]:
    raw = _b64url_decode(encoded, "protected header")
    fast = _hub_form(raw)
    if fast is not None:
        return fast
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedSignature("the protected header is not a JSON object") from exc
    if not isinstance(header, dict):
        raise MalformedSignature("the protected header is not a JSON object")
    return header


def _hub_form(raw: bytes) -> dict[str, Any] | None:
    """The header, when `raw` is written as the hub writes it (sorted keys, no whitespace, the
    texts printable ASCII): orjson reads it in a tenth of the time. Written back, it must give
    `raw` byte for byte, which a member given twice (or anything `json` would read otherwise)
    cannot; any other header is read by `json`, member by member."""
    try:
        header = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(header, dict) or orjson.dumps(header, option=orjson.OPT_SORT_KEYS) != raw:
        return None
    return header


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate member in the protected header")
    return dict(pairs)


def _claims(header: Mapping[str, Any]) -> VerifiedClaims:
    # The algorithm first: no key is looked at for a signature we would never accept.
    if header.get("alg") != ALGORITHM:
        raise WrongAlgorithm(f"algorithm {header.get('alg')!r} refused; only {ALGORITHM}")
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise MalformedSignature('expected "b64": false, "crit": ["b64"] (RFC 7797)')
    kid, message_id, message_type, iat = (
        header.get("kid"),
        header.get("hub_id"),
        header.get("hub_type"),
        header.get("iat"),
    )
    if not all(isinstance(v, str) and v for v in (kid, message_id, message_type)):
        raise MalformedSignature("kid, hub_id and hub_type must be non-empty strings")
    if not isinstance(iat, int) or isinstance(iat, bool) or iat < 0:
        raise MalformedSignature("iat must be whole seconds since the epoch")
    return VerifiedClaims(str(kid), str(message_id), str(message_type), _from_epoch(iat))


def _from_epoch(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedSignature("iat is out of range") from exc


def _check_expected(what: str, claimed: str, expected: str | None) -> None:
    if expected is not None and claimed != expected:
        raise ClaimsMismatch(
            f"signed for message {what} {claimed!r}, but the record says {expected!r}"
        )
