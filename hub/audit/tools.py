"""Operator tools over the trail, each a plain function the CLI calls: verify the topic, export
the anchors an auditor keeps, seal the chains of dead writers, rebuild the projection, and the
lines that show a report."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hub.audit.anchors import PinnedCheckpoint
from hub.audit.projection import Projection
from hub.audit.service import AuditService
from hub.audit.verify import DEFAULT_GRACE, Finding, TrailReport, TrailVerifier, WriterReport
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord
from hub.settings import HubSettings
from hub.signing.signer import Signer
from schemas.audit import AuditFacts, AuditStep, ChainEnd, audit_id
from schemas.signature import PublicKeys

__all__ = [
    "anchor_lines",
    "pinned_checkpoints",
    "read_all",
    "rebuild_projection",
    "report_lines",
    "seal_facts",
    "sealable",
    "verify_topics",
    "write_facts",
]

# What a writer killed mid-run leaves behind, and nothing else: an open chain past the grace
# period, and perhaps its last checkpoint's anchor, never sent.
_DEAD_WRITER = frozenset({"open", "unanchored"})

_REBUILD_BATCH = 2_000
# Records checked between two turns of the event loop (a few milliseconds of work).
_VERIFY_SLICE = 200


async def read_all(connection: KafkaConnection, topic: str) -> list[InboundRecord]:
    return [record async for record in read_topic(connection, topic)]


async def verify_topics(
    connection: KafkaConnection,
    topic: str,
    checkpoints_topic: str,
    keys: PublicKeys,
    *,
    pinned: Sequence[PinnedCheckpoint] = (),
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> TrailReport:
    """Read the whole audit topic and its checkpoint topic, and check every writer's chain
    (against the checkpoints an auditor `pinned` outside the cluster, if any).

    The records are checked as they are read, and only their rows are kept: the running hub
    does this every `audit.verify_every_s`, and must neither hold a year's trail in memory nor
    keep its own consumers waiting while it checks."""
    verifier = TrailVerifier(keys)
    read = 0
    async for record in read_topic(connection, topic):
        verifier.add(record)
        read += 1
        if read % _VERIFY_SLICE == 0:
            await asyncio.sleep(0)  # the event loop's other work, between slices of the check
    anchors = await read_all(connection, checkpoints_topic)
    anchors.sort(key=lambda r: (r.position.partition, r.position.offset))
    return await asyncio.to_thread(verifier.report, anchors, pinned=pinned, now=now, grace=grace)


def pinned_checkpoints(report: TrailReport) -> list[PinnedCheckpoint]:
    """What an auditor keeps: every writer's latest checkpoint within its verified range."""
    return [w.last_checkpoint for w in report.writers if w.last_checkpoint is not None]


def anchor_lines(report: TrailReport, pinned: Sequence[PinnedCheckpoint]) -> list[str]:
    """What `hub audit anchor export` prints: per writer what was pinned, and what was not."""
    by_writer = {p.writer: p for p in pinned}
    lines = []
    for writer in report.writers:
        anchor = by_writer.get(writer.writer)
        lines.append(
            f"  writer {writer.writer}: checkpoint seq {anchor.seq} at {anchor.position}"
            if anchor
            else f"  writer {writer.writer}: no verified checkpoint to anchor"
        )
    if not report.intact:
        lines.append(
            f"warning: the trail is NOT INTACT ({_count(report)}; see `hub audit verify`): "
            "each writer is anchored only within its verified range"
        )
    return lines


def sealable(report: TrailReport) -> list[WriterReport]:
    """Writers that died: open past the grace period, signed to their last record, and with
    nothing else wrong. A chain with any other problem is for an auditor, not a seal."""
    return [w for w in report.writers if _dead(w)]


def _dead(writer: WriterReport) -> bool:
    errors = {f.kind for f in writer.findings if f.error}
    return (
        "open" in errors
        and errors <= _DEAD_WRITER
        and writer.last_seq is not None
        and writer.signed_to == writer.last_seq
    )


def seal_facts(writers: Sequence[WriterReport], *, operator: str, why: str) -> list[AuditFacts]:
    """One `sealed` record per dead writer: where its chain ended, who said so, and why."""
    return [
        AuditFacts(
            id=audit_id(AuditStep.SEALED, w.writer, str(w.last_seq)),
            step=AuditStep.SEALED,
            stage="audit",
            operator=operator,
            note=why,
            sealed=ChainEnd(writer=w.writer, seq=w.last_seq, hash=w.last_hash),
        )
        for w in writers
        if w.last_seq is not None and w.last_hash is not None
    ]


async def write_facts(settings: HubSettings, signer: Signer, facts: Sequence[AuditFacts]) -> None:
    """Put `facts` on the trail in a chain of this process's own, closed when done."""
    audit = settings.audit.model_copy(update={"project": False})
    service = AuditService(settings.model_copy(update={"audit": audit}), signer)
    await service.start()
    try:
        await service.writer.append(facts)
    finally:
        await service.stop()


async def rebuild_projection(
    connection: KafkaConnection, topic: str, projection: Projection
) -> int:
    """Make the projection again from the topic; returns how many distinct records it holds."""
    projection.reset()
    batch: list[InboundRecord] = []
    async for record in read_topic(connection, topic):
        batch.append(record)
        if len(batch) >= _REBUILD_BATCH:
            projection.apply(batch)
            batch = []
    projection.apply(batch)
    return projection.count()


def report_lines(report: TrailReport, topic: str) -> list[str]:
    """What `hub audit verify` prints: per writer its verified range, then every finding."""
    kept = f"kept {report.retention_days} days" if report.retention_days else "kept forever"
    lines = [f"{topic}: {report.records} records, {len(report.writers)} writers, {kept}"]
    lines += [f"  {finding}" for finding in report.findings]
    for writer in report.writers:
        lines.append(_writer_line(writer))
        lines += [f"      {'!!' if f.error else '--'} {f}" for f in writer.findings]
    verdict = "INTACT" if report.intact else "NOT INTACT"
    lines.append(f"{verdict}: {_count(report)}")
    return lines


def _writer_line(writer: WriterReport) -> str:
    if writer.last_seq is None:
        return f"  writer {writer.writer}: no records on the topic"
    state = "closed" if writer.closed else f"open since {_moment(writer.started)}"
    verified = (
        f"verified seq 0..{writer.verified_to}"
        if writer.verified_to is not None and writer.verified_to >= 0
        else "nothing verified"
    )
    anchored = f", anchored to seq {writer.anchored_to}" if writer.anchored_to is not None else ""
    signed = f", signed to seq {writer.signed_to}" if writer.signed_to is not None else ""
    dupes = f", {writer.duplicates} benign duplicates" if writer.duplicates else ""
    return (
        f"  writer {writer.writer}: seq {writer.first_seq}..{writer.last_seq}, {verified}"
        f"{signed}{anchored}, {state}{dupes}"
    )


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "?"


def _count(report: TrailReport) -> str:
    problems: list[Finding] = [f for f in report.findings if f.error]
    problems += [f for w in report.writers for f in w.findings if f.error]
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found"
