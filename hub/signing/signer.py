"""The signer: the hub's private key behind one narrow interface.

`sign` returns the `hub-signature` header for a value (the format and byte order are documented
in `schemas.signature`); `sign_record` is the pipeline's finisher: it reads the message id and
type from the record's own headers and adds the signature header, so every stage signs alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.pipeline import headers as h
from hub.pipeline.records import OutboundRecord
from schemas.signature import b64url, encode_protected, okp_public_jwk, signing_input

__all__ = ["Signer"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Signer:
    def __init__(
        self, private_key: Ed25519PrivateKey, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._key = private_key
        self._clock = clock
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_jwk = okp_public_jwk(raw)
        self.kid = self.public_jwk["kid"]

    def sign(self, value: bytes, *, message_id: str, message_type: str) -> str:
        """The detached JWS over `value`, bound to the message's id and type."""
        issued_at = int(self._clock().timestamp())
        protected = encode_protected(self.kid, message_id, message_type, issued_at)
        signature = self._key.sign(signing_input(protected, value))
        return f"{protected.decode('ascii')}..{b64url(signature)}"

    def sign_record(self, record: OutboundRecord) -> OutboundRecord:
        """`record` with the hub's signature header (replacing any earlier one)."""
        message_id, message_type = record.header(h.EVENT_ID), record.header(h.EVENT_TYPE)
        if not message_id or not message_type or record.value is None:
            raise ValueError(
                f"a record to sign needs a value and {h.EVENT_ID} and {h.EVENT_TYPE} headers"
            )
        header = self.sign(record.value, message_id=message_id, message_type=message_type)
        kept = tuple((k, v) for k, v in record.headers if k != h.SIGNATURE)
        return OutboundRecord(
            topic=record.topic,
            key=record.key,
            value=record.value,
            headers=(*kept, (h.SIGNATURE, header.encode("ascii"))),
        )
