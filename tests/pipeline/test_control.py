"""The seal on replay and control headers: only the hub's own, over exactly what it sent."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.pipeline import headers as h
from hub.pipeline.control import Screen, seal
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.signing.signer import Signer
from hub.signing.verifying import TrustedKeys
from schemas.signature import PublicKeys

ENTRY = "0b1c2d3e-4f50-5617-8829-3a4b5c6d7e8f"
STEER = text_headers([(h.REPLAY_OF, ENTRY), (h.REPLAY_GROUP, "g")])


def keys(*signers: Signer) -> PublicKeys:
    return PublicKeys.from_jwks({"keys": [s.public_jwk for s in signers]})


def inbound(headers: tuple[tuple[str, bytes], ...], value: bytes = b"<doc/>") -> InboundRecord:
    return InboundRecord(Position("in.koda.v1", 0, 1), b"KODA-PERSON-1", value, headers)


def test_a_key_rotated_in_by_another_process_is_found() -> None:
    old, new = Signer(Ed25519PrivateKey.generate()), Signer(Ed25519PrivateKey.generate())
    published = [keys(old)]
    trusted = TrustedKeys(lambda: published[-1], min_reload_s=0)
    screen = Screen(trusted, untrusted_topic=True)
    published.append(keys(old, new))  # `hub keys rotate` elsewhere
    screened = screen.screen(inbound(seal(STEER, b"KODA-PERSON-1", b"<doc/>", new)))
    assert screened.steering is not None
    assert screened.steering.replay_of == ENTRY
    assert screened.refused == ()


def test_another_signature_of_the_hub_is_no_seal() -> None:
    hub = Signer(Ed25519PrivateKey.generate())
    event = hub.sign_record(
        OutboundRecord(
            "hub.events.v1",
            b"k",
            b"<doc/>",
            text_headers([(h.EVENT_ID, ENTRY), (h.EVENT_TYPE, "no.justishub.control.v0")]),
        )
    )
    signature = event.header(h.SIGNATURE) or ""
    forged = inbound((*STEER, (h.REPLAY_SEAL, signature.encode())))
    screened = Screen(keys(hub), untrusted_topic=True).screen(forged)
    assert screened.steering is None
    assert screened.refused == (h.REPLAY_OF, h.REPLAY_GROUP, h.REPLAY_SEAL)


def test_on_the_hubs_own_topics_only_unsealed_steering_goes() -> None:
    hub = Signer(Ed25519PrivateKey.generate())
    record = inbound((*text_headers([(h.EVENT_ID, ENTRY)]), *STEER))
    screened = Screen(keys(hub), untrusted_topic=False).screen(record)
    assert screened.refused == (h.REPLAY_OF, h.REPLAY_GROUP)
    assert screened.record.header(h.EVENT_ID) == ENTRY
