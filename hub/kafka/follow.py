"""Following a topic without a consumer group: from stored positions, batch by batch, until told
to stop. The running hub's audit projection reads the audit topic this way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.kafka.admin import partition_count
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import unreachable
from hub.pipeline.records import InboundRecord

__all__ = ["follow_topic"]


async def follow_topic(
    connection: KafkaConnection,
    topic: str,
    *,
    start: Mapping[int, int],
    stop: asyncio.Event,
    max_records: int = 1_000,
) -> AsyncIterator[list[InboundRecord]]:
    """Yield batches of `topic`'s records from `start` (else the beginning) until `stop` is set."""
    consumer = AIOKafkaConsumer(**connection.aiokafka(), group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
        # Asked of the cluster, not of the consumer's metadata, which only knows topics it saw.
        count = await partition_count(connection, topic)
        assigned = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(assigned)
        for tp in assigned:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=max_records)
            records = [InboundRecord.from_consumer_record(r) for rs in batch.values() for r in rs]
            if records:
                yield records
    except KafkaError as exc:
        raise unreachable(connection, exc) from exc
    finally:
        await consumer.stop()
