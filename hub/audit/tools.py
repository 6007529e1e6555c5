"""Operator tools over the trail, each a plain function the CLI calls: verify the topic, rebuild
the projection, and the lines that show a report."""

from __future__ import annotations

from hub.audit.projection import Projection
from hub.audit.verify import Finding, TrailReport, WriterReport, verify_trail
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord
from schemas.signature import PublicKeys

__all__ = ["read_all", "rebuild_projection", "report_lines", "verify_topics"]

_REBUILD_BATCH = 2_000


async def read_all(connection: KafkaConnection, topic: str) -> list[InboundRecord]:
    return [record async for record in read_topic(connection, topic)]


async def verify_topics(
    connection: KafkaConnection, topic: str, checkpoints_topic: str, keys: PublicKeys
) -> TrailReport:
    """Read the whole audit topic and its checkpoint topic, and check every writer's chain."""
    records = await read_all(connection, topic)
    anchors = await read_all(connection, checkpoints_topic)
    records.sort(key=lambda r: (r.position.partition, r.position.offset))
    anchors.sort(key=lambda r: (r.position.partition, r.position.offset))
    return verify_trail(records, anchors, keys)


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
    lines = [f"{topic}: {report.records} records, {len(report.writers)} writers"]
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
    state = "closed" if writer.closed else "open"
    verified = (
        f"verified seq 0..{writer.verified_to}"
        if writer.verified_to is not None and writer.verified_to >= 0
        else "nothing verified"
    )
    anchored = f", anchored to seq {writer.anchored_to}" if writer.anchored_to is not None else ""
    dupes = f", {writer.duplicates} benign duplicates" if writer.duplicates else ""
    return (
        f"  writer {writer.writer}: seq {writer.first_seq}..{writer.last_seq}, {verified}"
        f"{anchored}, {state}{dupes}"
    )


def _count(report: TrailReport) -> str:
    problems: list[Finding] = [f for f in report.findings if f.error]
    problems += [f for w in report.writers for f in w.findings if f.error]
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found"
