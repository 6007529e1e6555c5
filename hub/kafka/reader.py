"""Reading a topic without a consumer group: from the beginning (or given offsets) to its end.

Operator tools (`hub tail`, the demo, dead-letter listings, audit checks) read this way: they take
no part in the pipeline's consumer groups and commit nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.kafka.admin import partition_count, translate
from hub.kafka.connection import KafkaConnection
from hub.pipeline.records import InboundRecord
from schemas.errors import HubError, Reason, TransientError

__all__ = ["end_offsets", "read_topic", "unreachable"]


def unreachable(connection: KafkaConnection, exc: BaseException) -> HubError:
    if isinstance(exc, KafkaError) and _refused(exc):
        return translate(f"Kafka at {connection.bootstrap_servers} as {connection.username}", exc)
    return TransientError(
        f"cannot reach Kafka at {connection.bootstrap_servers} ({type(exc).__name__}); "
        "is it running? (`hub kafka status`)",
        reason=Reason.BROKER_UNAVAILABLE,
    )


@asynccontextmanager
async def _consumer(connection: KafkaConnection, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        **connection.aiokafka(),
        enable_auto_commit=False,
        group_id=None,
        request_timeout_ms=15_000,
        # Inbound and dead-letter records may be several MiB (see KafkaSettings).
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    try:
        await consumer.start()
    except KafkaError as exc:
        await consumer.stop()
        raise unreachable(connection, exc) from exc
    except BaseException:
        # Cancelled while connecting (a background reader at the hub's stop): still closed.
        await asyncio.shield(consumer.stop())
        raise
    try:
        # Asked of the cluster, not of the consumer's metadata, which only knows topics it saw.
        count = await partition_count(connection, topic)
        consumer.assign([TopicPartition(topic, p) for p in range(count)])
        yield consumer
    finally:
        await consumer.stop()


async def end_offsets(connection: KafkaConnection, topic: str) -> dict[int, int]:
    """The offset the next record of each partition of `topic` will get."""
    async with _consumer(connection, topic) as consumer:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        return {tp.partition: offset for tp, offset in ends.items()}


async def read_topic(
    connection: KafkaConnection,
    topic: str,
    *,
    start: Mapping[int, int] | None = None,
    max_records: int | None = None,
    follow_s: float = 0.0,
) -> AsyncIterator[InboundRecord]:
    """Yield the records of `topic` from `start` (default: the beginning) to its current end.

    With `follow_s`, keep waiting for new records until none has come for that many seconds.
    Records of one partition come in offset order; partitions are interleaved.
    """
    async with _consumer(connection, topic) as consumer:
        assigned = list(consumer.assignment())
        from_start = [tp for tp in assigned if start is None or tp.partition not in start]
        for tp in assigned:
            if start is not None and tp.partition in start:
                consumer.seek(tp, start[tp.partition])
        if from_start:
            # One offset request for all: one per partition costs a round of the consumer's
            # fetch loop each (about 0.4 s), which a dead-letter listing paid several times.
            await consumer.seek_to_beginning(*from_start)
        ends = await consumer.end_offsets(assigned)
        count = 0
        idle_since = time.monotonic()
        while max_records is None or count < max_records:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            for records in batch.values():
                for raw in records:
                    yield InboundRecord.from_consumer_record(raw)
                    count += 1
                    if max_records is not None and count >= max_records:
                        return
            if batch:
                idle_since = time.monotonic()
            elif await _at_end(consumer, ends) and time.monotonic() - idle_since >= follow_s:
                return
            await asyncio.sleep(0)


async def _at_end(consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def _refused(exc: KafkaError) -> bool:
    # A refused login or ACL is no outage: saying "is it running?" would send a person astray.
    name = type(exc).__name__
    return "Authorization" in name or "Authentication" in name or "Sasl" in name
