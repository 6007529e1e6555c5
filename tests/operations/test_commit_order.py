"""On the real broker: a record that fails is in the dead-letter topic before the group's
committed offset passes it, even when the next record succeeds at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from hub.kafka.connection import KafkaConnection
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import end_offsets
from hub.kafka.subscriber import subscribe_stage
from hub.pipeline.records import InboundRecord, OutboundRecord
from hub.pipeline.runner import RetryPolicy, StageRunner
from schemas.errors import Reason, TransientError
from tests.support import NewTopic, RunningKafka

pytestmark = [pytest.mark.kafka]


async def committed(admin: AIOKafkaAdminClient, group: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return max((meta.offset for meta in offsets.values()), default=-1)


async def test_the_failed_record_is_dead_lettered_before_the_offset_passes_it(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    source, out, dlq = [await new_topic(prefix) for prefix in ("in", "out", "dlq")]
    group = f"test-commit-{uuid.uuid4().hex[:8]}"
    settings = kafka.kafka_settings(max_batch_records=1)

    def step(record: InboundRecord) -> Sequence[OutboundRecord]:
        if record.value == b"fails":
            raise TransientError("a store that stays locked", reason=Reason.TIMEOUT)
        return [OutboundRecord(out, record.key, record.value)]

    producer = build_producer(kafka.connection, settings)
    runner = StageRunner(
        stage="test",
        group=group,
        step=step,
        sink=KafkaRecordSink(producer),
        dlq_topic=dlq,
        retry=RetryPolicy(max_attempts=4, base_delay_s=0.2),
    )
    broker = KafkaBroker(
        kafka.bootstrap_servers,
        security=kafka.connection.faststream_security(),
        consumer_only=True,
        allow_auto_create_topics=False,
    )
    subscribe_stage(broker, runner, topic=source, group_id=group, kafka=settings)
    await _publish(kafka.connection, source, [b"fails", b"succeeds"])

    admin = AIOKafkaAdminClient(**kafka.connection.aiokafka())
    await admin.start()
    observations: list[tuple[int, int]] = []
    await producer.start()
    try:
        async with broker:
            await broker.start()
            for _ in range(600):
                position = await committed(admin, group)
                in_dlq = sum((await end_offsets(kafka.connection, dlq)).values())
                observations.append((position, in_dlq))
                if position >= 2:
                    break
                await asyncio.sleep(0.01)
    finally:
        await producer.stop()
        await admin.close()

    assert observations[-1][0] == 2, "both records were committed in the end"
    assert any(pos <= 0 for pos, _ in observations), "the failing record was watched in flight"
    passed = [in_dlq for pos, in_dlq in observations if pos >= 1]
    assert passed, "the offset was seen past the failed record"
    assert all(in_dlq == 1 for in_dlq in passed), "never past it before its dead-letter entry"


async def _publish(connection: KafkaConnection, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(**connection.aiokafka(), enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"pk-one")
    finally:
        await producer.stop()
