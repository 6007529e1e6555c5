"""`hub demo`: publish the bundled sample documents and show where each one went."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from adapters.context import TranslationContext
from hub.kafka.reader import end_offsets, read_topic
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, Position
from hub.settings import HubSettings
from hub.sources import Source
from hub.tools.publish import publish_documents
from schemas.audit import AuditRecord, AuditStep, decode_record
from schemas.errors import HubError
from schemas.recipients import RecipientKind

__all__ = ["Journey", "bundled_samples", "run_demo"]

# Each published event gets one line per recipient kind: delivered, or refused and why.
# One recipient stage per kind: a journey is settled when each has decided.
_RECIPIENT_KINDS = len(RecipientKind)


@dataclass
class Journey:
    """Where one published document ended up."""

    path: Path
    position: Position
    source_event_id: str | None
    outcomes: list[str]
    # The canonical event's id once published, and per recipient kind where it went or why not.
    canonical_id: str | None = None
    routes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        if not self.outcomes:
            return False
        return self.canonical_id is None or len(self.routes) >= _RECIPIENT_KINDS

    @property
    def label(self) -> str:
        """The sample's path below the samples folder, e.g. `koda/invalid/01-….xml`."""
        parts = self.path.parts
        return "/".join(parts[parts.index("samples") + 1 :])


def bundled_samples(source: Source) -> list[Path]:
    """The source's valid samples, then the deliberately invalid ones (`invalid/`)."""
    folder = Path(str(resources.files("hubdev.demo") / "samples" / source.name))
    pattern = f"*{source.file_suffix}"
    return sorted(folder.glob(pattern)) + sorted((folder / "invalid").glob(pattern))


async def run_demo(
    settings: HubSettings,
    sources: Sequence[Source],
    context: TranslationContext,
    *,
    timeout_s: float = 60.0,
) -> list[Journey]:
    """Publish every bundled sample and wait (up to `timeout_s`) until each has an outcome."""
    # What became of the samples is read as the operator's tools read it.
    bootstrap, topics = settings.with_principal("operator").kafka_connection(), settings.topics
    starts = {t: await end_offsets(bootstrap, t) for t in (topics.events, topics.dlq)}
    audit_start = await end_offsets(bootstrap, topics.audit)
    journeys: list[Journey] = []
    for source in sources:
        paths = bundled_samples(source)
        docs = [p.read_bytes() for p in paths]
        positions = await publish_documents(
            settings, source, docs, context, content_type=source.content_type
        )
        journeys += [
            Journey(path, position, _source_event_id(source, doc, context), [])
            for path, position, doc in zip(paths, positions, docs, strict=True)
        ]
    deadline = time.monotonic() + timeout_s
    while not all(j.settled for j in journeys) and time.monotonic() < deadline:
        for topic, start in starts.items():
            async for record in read_topic(bootstrap, topic, start=start):
                _match(record, journeys)
        async for record in read_topic(bootstrap, topics.audit, start=audit_start):
            _route(record, journeys)
        await asyncio.sleep(0.5)
    return journeys


def _route(stored: InboundRecord, journeys: list[Journey]) -> None:
    """A delivery or refusal on the audit trail, as a line under the event it is about."""
    try:
        record = decode_record(stored.value)
    except ValueError:
        return
    if record.step not in (AuditStep.DELIVERED, AuditStep.REFUSED):
        return
    for journey in journeys:
        if journey.canonical_id != record.message_id:
            continue
        lines = journey.routes.setdefault(record.stage, [])
        line = _route_line(record)
        if line not in lines:  # the trail is read again from the start on every pass
            lines.append(line)


def _route_line(record: AuditRecord) -> str:
    if record.step is AuditStep.REFUSED:
        rule = f" (rule {record.rule_id})" if record.rule_id else ""
        return f"✗ {record.recipient}: refused, {record.reason}{rule}"
    moved = f" (event named {record.redirected_from})" if record.redirected_from else ""
    out = record.output.topic if record.output else "?"
    return f"✓ {record.recipient}{moved} → {out}  rule {record.rule_id}"


def _source_event_id(source: Source, document: bytes, context: TranslationContext) -> str | None:
    try:
        return source.translate(document, context).sourceeventid
    except HubError:
        return None


def _match(record: InboundRecord, journeys: list[Journey]) -> None:
    dlq_topic = record.header(h.DLQ_TOPIC)
    for journey in journeys:
        if dlq_topic is not None:
            origin = Position(
                dlq_topic,
                int(record.header(h.DLQ_PARTITION) or -1),
                int(record.header(h.DLQ_OFFSET) or -1),
            )
            hit = origin == journey.position
            line = (
                f"→ {record.position}  dead-lettered: {record.header(h.DLQ_REASON)}: "
                f"{record.header(h.DLQ_REASON_TEXT)}"
            )
        else:
            sid = record.header(h.SOURCE_EVENT_ID)
            hit = sid is not None and sid == journey.source_event_id
            if hit:
                journey.canonical_id = record.header(h.EVENT_ID)
            line = (
                f"→ {record.position}  {record.header(h.EVENT_TYPE)}  "
                f"id {record.header(h.EVENT_ID)}"
            )
        if hit and line not in journey.outcomes:
            journey.outcomes.append(line)
