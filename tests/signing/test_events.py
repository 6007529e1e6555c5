"""Every canonical event type, signed as the ingest stage signs it, verifies with the JWKS
alone: by our verifier and by joserfc, bound to the record's own id and type headers."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from hub.pipeline import headers as h
from hub.pipeline.ingest import canonical_record
from hub.pipeline.records import InboundRecord, Position
from hub.signing.signer import Signer
from hub.signing.verifying import verify_record
from schemas import codec
from schemas.events import EVENT_CLASSES, Envelope, event_type_of
from schemas.ids import canonical_id
from schemas.signature import ClaimsMismatch, PublicKeys, verify
from tests.events import make_event
from tests.signing.test_interop import RECIPIENT_REGISTRY


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=event_type_of)
def test_every_event_type_round_trips(
    cls: type[Envelope], signer: Signer, jwks: dict[str, Any]
) -> None:
    event = make_event(cls)
    signed = signer.sign_record(canonical_record(event, "hub.events.v1"))
    assert signed.value == codec.encode(event), "the signature travels beside the exact bytes"
    received = InboundRecord(
        Position("hub.events.v1", 0, 0), signed.key, signed.value, signed.headers
    )

    claims = verify_record(received, PublicKeys.from_jwks(jwks))
    assert (claims.message_id, claims.message_type, claims.kid) == (
        event.id,
        event.type,
        signer.kid,
    )
    assert codec.decode(received.value) == event

    header = signed.header(h.SIGNATURE)
    assert header is not None
    other = jws.deserialize_compact(
        header,
        KeySet.import_key_set(jwks),
        registry=RECIPIENT_REGISTRY,
        payload=signed.value,  # type: ignore[arg-type]  # joserfc wants its own TypedDict; this is the same JSON
    )
    assert other.headers()["hub_id"] == event.id


def test_a_signature_cannot_move_to_a_resend_with_another_id(
    signer: Signer, jwks: dict[str, Any]
) -> None:
    first = make_event(EVENT_CLASSES[0])
    second = make_event(
        EVENT_CLASSES[0],
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-2"),
        sourceeventid="KODA-TEST-2",
    )
    signed = signer.sign_record(canonical_record(first, "hub.events.v1"))
    # Someone re-labels the record as the other event: the claims no longer match its headers.
    with pytest.raises(ClaimsMismatch):
        verify(signed.value, signed.header(h.SIGNATURE), jwks, expected_id=second.id)
