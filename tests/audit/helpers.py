"""Audit facts and chains made quickly, for the tests of the writer, verifier and projection."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.writer import AuditWriter, ChainEntry, ChainLog
from hub.pipeline.records import InboundRecord, Position
from hub.signing.signer import Signer
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from schemas.signature import PublicKeys

__all__ = ["as_inbound", "facts", "make_writer", "public_keys"]


def facts(n: int, *, start: int = 0, stage: str = "ingest") -> list[AuditFacts]:
    """`n` received records for inputs at offsets start..start+n-1 of in.koda.v1[0]."""
    return [
        AuditFacts(
            id=audit_id(AuditStep.RECEIVED, stage, f"in.koda.v1[0]@{i}"),
            step=AuditStep.RECEIVED,
            stage=stage,
            input=Where(topic="in.koda.v1", partition=0, offset=i),
        )
        for i in range(start, start + n)
    ]


def make_writer(
    log: ChainLog, signer: Signer, *, every: int = 100, every_s: float = 3600.0, writer: str = "w1"
) -> AuditWriter:
    return AuditWriter(
        log,
        signer=signer,
        writer_id=writer,
        checkpoint_every_records=every,
        checkpoint_every_s=every_s,
    )


def new_signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def public_keys(*signers: Signer) -> PublicKeys:
    return PublicKeys.from_jwks({"keys": [s.public_jwk for s in signers]})


def as_inbound(entries: Sequence[ChainEntry], topic: str = "hub.audit.v1") -> list[InboundRecord]:
    return [
        InboundRecord(Position(topic, 0, offset), e.key, e.value, e.headers, e.timestamp_ms)
        for offset, e in enumerate(entries)
    ]
