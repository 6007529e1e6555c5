"""The audit writer's `ChainLog` on Kafka: each segment is ONE producer batch to the writer's
fixed partition, which the broker appends whole or not at all.

The chain has its own producer (idempotent, acks from all in-sync replicas), so its batches never
share a request with the pipeline's records, and its failures say only that the chain could not
be written. aiokafka's exceptions stop here.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.audit.writer import MAX_SEGMENT_BYTES, ChainEntry
from hub.kafka.connection import KafkaConnection
from hub.kafka.producer import transient
from hub.pipeline.records import Position
from hub.settings import KafkaSettings
from schemas.errors import Reason, TransientError

__all__ = ["KafkaChainLog", "build_chain_producer", "writer_partition"]


def build_chain_producer(
    connection: KafkaConnection, kafka: KafkaSettings, *, client_id: str
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **connection.aiokafka(),
        client_id=client_id,
        # Idempotence implies acks=all; both stated so no one has to remember that.
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=kafka.request_timeout_ms,
        # Room for a whole segment in one batch (records plus their framing).
        max_batch_size=2 * MAX_SEGMENT_BYTES,
    )


async def writer_partition(producer: AIOKafkaProducer, topic: str, writer_id: str) -> int:
    """The one partition of `topic` this writer appends to, fixed for its whole life."""
    try:
        partitions = sorted(await producer.partitions_for(topic))
    except KafkaError as exc:
        raise transient(exc) from exc
    return int(partitions[zlib.crc32(writer_id.encode()) % len(partitions)])


class KafkaChainLog:
    """`hub.audit.writer.ChainLog` on a started producer."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        *,
        topic: str,
        partition: int,
        anchor_topic: str,
        anchor_partition: int,
    ) -> None:
        self._producer = producer
        self._topic, self._partition = topic, partition
        self._anchor_topic, self._anchor_partition = anchor_topic, anchor_partition

    async def append(self, segment: Sequence[ChainEntry]) -> Position:
        return await self._send_batch(segment, self._topic, self._partition)

    async def anchor(self, checkpoint: ChainEntry) -> Position:
        return await self._send_batch([checkpoint], self._anchor_topic, self._anchor_partition)

    async def _send_batch(
        self, entries: Sequence[ChainEntry], topic: str, partition: int
    ) -> Position:
        batch = self._producer.create_batch()
        for entry in entries:
            if batch.append(**_fields(entry)) is None:
                raise TransientError(
                    f"a chain segment of {len(entries)} records does not fit one batch",
                    reason=Reason.INTERNAL_ERROR,
                )
        try:
            acknowledged = await self._producer.send_batch(batch, topic, partition=partition)
            metadata = await acknowledged
        except KafkaError as exc:
            raise transient(exc) from exc
        return Position(topic, metadata.partition, metadata.offset)


def _fields(entry: ChainEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "value": entry.value,
        "timestamp": entry.timestamp_ms,
        "headers": list(entry.headers),
    }
