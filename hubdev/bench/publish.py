"""Putting the benchmark's documents on an inbound topic, with the hub's own producer settings:
as fast as the producer allows (the backlog), or at a fixed rate with each document's publish
time noted (the latency run)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka.errors import KafkaError

from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import unreachable
from hub.pipeline.records import OutboundRecord, Position
from hub.settings import HubSettings
from hubdev.bench.corpus import Document

__all__ = ["Published", "publish_backlog", "publish_paced", "publisher"]

# How often the paced publisher wakes up to send what is due: fine enough for 1 ms steps on
# average, coarse enough not to busy the event loop.
_TICK_S = 0.005


@dataclass(frozen=True)
class Published:
    documents: int
    # Time spent handing documents to the producer and awaiting their acknowledgements
    # (making the documents is not counted).
    seconds: float

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0


@asynccontextmanager
async def publisher(settings: HubSettings) -> AsyncIterator[KafkaRecordSink]:
    """A started producer as the hub builds it (idempotent, acks=all), as a record sink."""
    kafka, connection = settings.kafka, settings.kafka_connection()
    producer = build_producer(connection, kafka, client_id=f"{kafka.client_id}-publisher")
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise unreachable(connection, exc) from exc
    try:
        yield KafkaRecordSink(producer)
    finally:
        await producer.stop()


async def publish_backlog(
    sink: KafkaRecordSink, topic: str, parts: Iterable[Sequence[Document]]
) -> Published:
    """Publish every part in turn, each as fast as the producer takes it."""
    count, seconds = 0, 0.0
    for part in parts:
        started = time.perf_counter()
        acks = [await sink.send(_record(topic, doc)) for doc in part]
        await asyncio.gather(*acks)
        seconds += time.perf_counter() - started
        count += len(part)
    return Published(count, seconds)


async def publish_paced(
    sink: KafkaRecordSink, topic: str, documents: Sequence[Document], rate: float
) -> list[float]:
    """Publish `documents` at `rate` per second; return when each was handed to the producer
    (`time.monotonic()`), once all are acknowledged."""
    sent_at = [0.0] * len(documents)
    acks: list[Awaitable[Position]] = []
    start = time.monotonic()
    while len(acks) < len(documents):
        due = min(len(documents), int((time.monotonic() - start) * rate) + 1)
        while len(acks) < due:
            index = len(acks)
            sent_at[index] = time.monotonic()
            acks.append(await sink.send(_record(topic, documents[index])))
        await asyncio.sleep(_TICK_S)
    await asyncio.gather(*acks)
    return sent_at


def _record(topic: str, doc: Document) -> OutboundRecord:
    return OutboundRecord(topic=topic, key=doc.key, value=doc.value, headers=doc.headers)
