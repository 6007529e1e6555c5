"""A stage that consumes signed messages: what fails verification is dead-lettered, never
forwarded; a key rotated by another process is picked up."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.pipeline.runner import RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.signing.keys import KeyStore
from hub.signing.signer import Signer
from hub.signing.verifying import TrustedKeys, verify_record, verifying
from schemas.signature import PublicKeys


def signed(signer: Signer, offset: int, value: bytes, event_id: str = "id-1") -> InboundRecord:
    out = OutboundRecord(
        "hub.events.v1",
        b"pk",
        value,
        text_headers([(h.EVENT_ID, event_id), (h.EVENT_TYPE, "t.v1")]),
    )
    done = signer.sign_record(out)
    return InboundRecord(Position("hub.events.v1", 0, offset), done.key, done.value, done.headers)


def forward(record: InboundRecord) -> Sequence[OutboundRecord]:
    return [OutboundRecord("out.v1", record.key, record.value)]


async def test_records_failing_verification_are_dead_lettered_and_never_forwarded(
    signer: Signer, tmp_path: Path
) -> None:
    good = signed(signer, 0, b"good")
    tampered = signed(signer, 1, b"good")
    tampered = InboundRecord(tampered.position, tampered.key, b"evil", tampered.headers)
    swapped_id = signed(signer, 2, b"other", event_id="id-2")
    swapped_id = InboundRecord(
        swapped_id.position,
        swapped_id.key,
        swapped_id.value,
        (*swapped_id.headers, (h.EVENT_ID, b"id-9")),
    )
    unsigned = InboundRecord(Position("hub.events.v1", 0, 3), b"pk", b"plain")
    stranger = signed(Signer(Ed25519PrivateKey.generate()), 4, b"stranger")

    sink = MemorySink()
    runner = StageRunner(
        stage="route",
        step=verifying(forward, TrustedKeys(lambda: _keys_of(signer))),
        sink=sink,
        dlq_topic="hub.dlq.v1",
        retry=RetryPolicy(max_attempts=1),
    )
    await runner.run_batch([good, tampered, swapped_id, unsigned, stranger])

    assert sink.values("out.v1") == [b"good"]
    reasons = [r.header(h.DLQ_REASON) for r in sink.topics["hub.dlq.v1"]]
    assert reasons == ["bad_signature", "bad_signature", "bad_signature", "unknown_key"]


def test_a_key_rotated_by_another_process_is_trusted_once_seen(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys", SecretStr("correct horse battery staple"))
    keys.generate()
    trusted = TrustedKeys(lambda: keys.load().public_keys(), min_reload_s=0.0)
    keys.rotate()
    record = signed(keys.signer(), 0, b"after rotation")
    assert verify_record(record, trusted).kid == keys.load().current


def _keys_of(signer: Signer) -> PublicKeys:
    return PublicKeys.from_jwks({"keys": [signer.public_jwk]})
