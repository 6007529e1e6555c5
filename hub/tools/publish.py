"""`hub publish`: put raw source documents on a source's inbound topic, as that source would.

The record key is the pseudonymous person key of the document, so one person's documents share
a partition and keep their order through the hub. A document the hub cannot read gets no key:
it is published all the same, and the ingest stage dead-letters it with its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka.errors import KafkaError

from adapters.context import TranslationContext
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import unreachable
from hub.pipeline import headers as h
from hub.pipeline.records import OutboundRecord, Position, text_headers
from hub.settings import HubSettings
from hub.sources import Source
from schemas.errors import HubError
from schemas.events import CanonicalEvent

__all__ = ["Prepared", "expand_paths", "inbound_key", "prepare", "publish_documents"]


def expand_paths(paths: Iterable[Path], suffix: str) -> list[Path]:
    """Files as given; a folder stands for its files ending in `suffix`, sorted by name."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix == suffix and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document ready for its inbound topic, and what the hub will make of it.

    Exactly one of `event` (the canonical event it will become) and `rejection` (why the
    ingest stage will dead-letter it) is set: the hub's own adapter decided, here and now.
    """

    record: OutboundRecord
    event: CanonicalEvent | None
    rejection: HubError | None


def prepare(
    source: Source,
    document: bytes,
    context: TranslationContext,
    *,
    content_type: str | None = None,
    correlation_id: str | None = None,
) -> Prepared:
    """The inbound record of `document`, keyed by its person key (none if it cannot be read)."""
    headers = text_headers(_publisher_headers(content_type, correlation_id))
    ctx = dataclasses.replace(context, correlation_id=correlation_id)
    try:
        event = source.translate(document, ctx)
    except HubError as exc:
        return Prepared(OutboundRecord(source.topic, None, document, headers), None, exc)
    key = event.subject.encode("ascii")
    return Prepared(OutboundRecord(source.topic, key, document, headers), event, None)


def inbound_key(source: Source, document: bytes, context: TranslationContext) -> bytes | None:
    """The person key of `document`, or None when it cannot be read (the hub will say why)."""
    return prepare(source, document, context).record.key


def _publisher_headers(
    content_type: str | None, correlation_id: str | None
) -> list[tuple[str, str]]:
    pairs = [(h.CONTENT_TYPE, content_type), (h.CORRELATION_ID, correlation_id)]
    return [(name, value) for name, value in pairs if value]


async def publish_documents(
    settings: HubSettings,
    source: Source,
    documents: Sequence[bytes],
    context: TranslationContext,
    *,
    content_type: str | None = None,
) -> list[Position]:
    """Publish `documents` in order; return where each landed, once all are acknowledged."""
    # As the source itself, unless this process has a principal of its own (the hub's ingress).
    connection = settings.with_principal(source.principal).kafka_connection()
    producer = build_producer(
        connection, settings.kafka, client_id=f"{settings.kafka.client_id}-publish"
    )
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise unreachable(connection, exc) from exc
    try:
        sink = KafkaRecordSink(producer)
        acks = []
        for document in documents:
            prepared = prepare(source, document, context, content_type=content_type)
            acks.append(await sink.send(prepared.record))
        return [await ack for ack in acks]
    finally:
        await producer.stop()
