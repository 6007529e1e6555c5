"""The ingest stage: a source document in, the signed canonical event out.

The step is a plain function of one inbound record. Everything that can be wrong with the
document is raised by the source's adapter as an `InputRejected` with its reason code; the runner
dead-letters it. The canonical event is keyed by the pseudonymous person key, so one person's
events stay in order on one partition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from adapters.context import TranslationContext
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, text_headers
from hub.pipeline.runner import bind_message_ids
from hub.sources import Source
from schemas import codec
from schemas.errors import InputRejected, Reason
from schemas.events import CanonicalEvent

__all__ = ["canonical_record", "ingest_step"]

CANONICAL_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

# Adds the hub's signature to a record about to be published.
Finisher = Callable[[OutboundRecord], OutboundRecord]


def ingest_step(
    source: Source,
    *,
    context: TranslationContext,
    events_topic: str,
    finish: Finisher | None = None,
) -> Callable[[InboundRecord], Sequence[OutboundRecord]]:
    """The ingest step for one source system."""

    def step(record: InboundRecord) -> Sequence[OutboundRecord]:
        _check_content_type(record, source)
        ctx = dataclasses.replace(context, correlation_id=record.header(h.CORRELATION_ID))
        event = source.translate(record.value, ctx)
        bind_message_ids(
            message_id=event.id,
            correlation_id=event.correlationid,
            source_event_id=event.sourceeventid,
        )
        out = canonical_record(event, events_topic)
        return [finish(out) if finish else out]

    return step


def canonical_record(event: CanonicalEvent, topic: str) -> OutboundRecord:
    return OutboundRecord(
        topic=topic,
        key=event.subject.encode("ascii"),
        value=codec.encode(event),
        headers=text_headers(
            [
                (h.CONTENT_TYPE, CANONICAL_CONTENT_TYPE),
                (h.EVENT_ID, event.id),
                (h.EVENT_TYPE, event.type),
                (h.CORRELATION_ID, event.correlationid),
                (h.SOURCE_EVENT_ID, event.sourceeventid),
            ]
        ),
    )


def _check_content_type(record: InboundRecord, source: Source) -> None:
    declared = record.header(h.CONTENT_TYPE)
    if not declared:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type not in source.content_types:
        raise InputRejected(
            f"the record's content type is not one {source.name} publishes "
            f"({', '.join(sorted(source.content_types))})",
            reason=Reason.UNSUPPORTED_CONTENT_TYPE,
        )
