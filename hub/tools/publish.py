"""`hub publish`: put raw source documents on a source's inbound topic, as that source would.

The record key is the pseudonymous person key of the document, so one person's documents share
a partition and keep their order through the hub. A document the hub cannot read gets no key:
it is published all the same, and the ingest stage dead-letters it with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

__all__ = ["expand_paths", "inbound_key", "publish_documents"]


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


def inbound_key(source: Source, document: bytes, context: TranslationContext) -> bytes | None:
    """The person key of `document`, or None when it cannot be read (the hub will say why)."""
    try:
        return source.translate(document, context).subject.encode("ascii")
    except HubError:
        return None


async def publish_documents(
    settings: HubSettings,
    source: Source,
    documents: Sequence[bytes],
    context: TranslationContext,
    *,
    content_type: str | None = None,
) -> list[Position]:
    """Publish `documents` in order; return where each landed, once all are acknowledged."""
    producer = build_producer(settings.kafka, client_id=f"{settings.kafka.client_id}-publish")
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise unreachable(settings.kafka.bootstrap_servers, exc) from exc
    headers = text_headers([(h.CONTENT_TYPE, content_type)]) if content_type else ()
    try:
        sink = KafkaRecordSink(producer)
        acks = []
        for document in documents:
            key = inbound_key(source, document, context)
            acks.append(await sink.send(OutboundRecord(source.topic, key, document, headers)))
        return [await ack for ack in acks]
    finally:
        await producer.stop()
