"""Topics are made on purpose, once, and aiokafka's errors arrive as the hub's own."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hub.kafka import TopicSpec, ensure_topics, list_topics
from hub.kafka.connection import KafkaConnection
from schemas.errors import PermanentError, Reason, TransientError
from tests.support import NewTopic, RunningKafka, free_ports

__all__: list[str] = []


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


async def describe(connection: KafkaConnection, topic: str) -> tuple[int, dict[str, str]]:
    """Partition count and explicitly set configs of `topic`, as the broker reports them."""
    admin = AIOKafkaAdminClient(**connection.aiokafka())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    (resource,) = response.resources
    entries = resource[4]
    return len(described["partitions"]), {entry[0]: entry[1] for entry in entries}


@pytest.mark.kafka
async def test_ensure_topics_creates_and_is_idempotent(kafka: RunningKafka) -> None:
    events = TopicSpec(unique("events"), 3, config={"retention.ms": "3600000"})
    compacted = TopicSpec(unique("state"), 1, config={"cleanup.policy": "compact"})

    created = await ensure_topics(kafka.connection, [events, compacted], timeout=30)
    assert sorted(created) == sorted([events.name, compacted.name])
    assert await ensure_topics(kafka.connection, [events, compacted], timeout=30) == []

    assert {events.name, compacted.name} <= await list_topics(kafka.connection)
    partitions, configs = await describe(kafka.connection, events.name)
    assert partitions == 3
    assert configs["retention.ms"] == "3600000"
    assert (await describe(kafka.connection, compacted.name))[1]["cleanup.policy"] == ("compact")


@pytest.mark.kafka
async def test_only_missing_topics_are_created(kafka: RunningKafka, new_topic: NewTopic) -> None:
    existing = await new_topic("existing")
    fresh = unique("fresh")
    specs = [TopicSpec(existing, 1), TopicSpec(fresh, 2)]
    assert await ensure_topics(kafka.connection, specs, timeout=30) == [fresh]


@pytest.mark.kafka
async def test_new_topic_gives_each_test_its_own(kafka: RunningKafka, new_topic: NewTopic) -> None:
    first = await new_topic("orders", partitions=4)
    second = await new_topic("orders")
    assert first != second
    assert first.startswith("orders.")
    assert (await describe(kafka.connection, first))[0] == 4


@pytest.mark.kafka
async def test_a_topic_kafka_refuses_is_a_permanent_error(kafka: RunningKafka) -> None:
    spec = TopicSpec(unique("replicated"), 1, replication_factor=3)
    with pytest.raises(PermanentError) as caught:
        await ensure_topics(kafka.connection, [spec], timeout=30)
    assert caught.value.reason is Reason.TOPIC_REJECTED
    assert spec.name in caught.value.detail
    assert "InvalidReplicationFactorError" in caught.value.detail


async def test_an_unreachable_broker_is_a_transient_error() -> None:
    (port,) = free_ports(1)
    with pytest.raises(TransientError) as caught:
        await ensure_topics(
            KafkaConnection(f"127.0.0.1:{port}"), [TopicSpec("never", 1)], timeout=5
        )
    assert caught.value.reason is Reason.BROKER_UNAVAILABLE


@pytest.mark.parametrize(
    ("name", "partitions"), [("", 1), ("has space", 1), ("..", 1), ("a" * 250, 1), ("ok", 0)]
)
def test_invalid_specs_are_refused_at_once(name: str, partitions: int) -> None:
    with pytest.raises(ValueError, match="topic"):
        TopicSpec(name, partitions)


async def test_a_topic_named_twice_is_refused_before_asking_kafka() -> None:
    specs = [TopicSpec("twice", 1), TopicSpec("twice", 2)]
    with pytest.raises(ValueError, match="named twice"):
        await ensure_topics("127.0.0.1:1", specs, timeout=1)
