"""A group that reads in place of retired ones starts where the slowest of them stood, on the
real broker: an upgrade from per-kind recipient groups skips no event."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hub.kafka.connection import KafkaConnection
from hub.kafka.groups import Partition
from hub.kafka.handover import lowest, take_over
from tests.support import NewTopic, RunningKafka

pytestmark = [pytest.mark.kafka]


async def commit(connection: KafkaConnection, group: str, offsets: dict[Partition, int]) -> None:
    consumer = AIOKafkaConsumer(**connection.aiokafka(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(*p) for p in offsets])
        await consumer.commit({TopicPartition(*p): o for p, o in offsets.items()})
    finally:
        await consumer.stop()


async def committed(connection: KafkaConnection, group: str) -> dict[Partition, int]:
    admin = AIOKafkaAdminClient(**connection.aiokafka())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): m.offset for tp, m in offsets.items() if m.offset >= 0}


async def test_the_new_group_starts_where_the_slowest_retired_group_stood(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    connection = kafka.connection
    topic = await new_topic("handover", partitions=3)
    p0, p1, p2 = ((topic, n) for n in range(3))
    await commit(connection, f"{topic}.route.nav", {p0: 5, p1: 7, p2: 3})
    await commit(connection, f"{topic}.route.health", {p0: 4, p1: 9})
    retired = (f"{topic}.route.nav", f"{topic}.route.health", f"{topic}.route.never-ran")

    started = await take_over(connection, f"{topic}.route", topic=topic, retired=retired)

    # p2: one retired group never committed there and would read it from its first record.
    assert started == {p0: 4, p1: 7}
    assert await committed(connection, f"{topic}.route") == {p0: 4, p1: 7}


async def test_a_group_that_committed_once_is_never_moved_again(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    connection = kafka.connection
    topic = await new_topic("handover", partitions=1)
    (p0,) = ((topic, n) for n in range(1))
    await commit(connection, f"{topic}.route.nav", {p0: 2})
    await commit(connection, f"{topic}.route", {p0: 40})

    started = await take_over(
        connection, f"{topic}.route", topic=topic, retired=[f"{topic}.route.nav"]
    )

    assert started == {}
    assert await committed(connection, f"{topic}.route") == {p0: 40}


async def test_a_new_deployment_starts_from_the_first_record(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    connection = kafka.connection
    topic = await new_topic("handover", partitions=2)

    started = await take_over(connection, f"{topic}.route", topic=topic, retired=[f"{topic}.a"])

    assert started == {}
    assert await committed(connection, f"{topic}.route") == {}


def test_only_partitions_every_retired_group_committed_on_are_set() -> None:
    a, b = ("t", 0), ("t", 1)
    assert lowest([{a: 3, b: 8}, {a: 5}, {}], [a, b]) == {a: 3}
    assert lowest([{}, {}], [a, b]) == {}
