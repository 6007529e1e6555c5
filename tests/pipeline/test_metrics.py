"""What a stage's batches show in the hub's metrics, and that no label can carry a person."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import generate_latest

from hub.kafka.connection import KafkaConnection
from hub.kafka.groups import GroupWatch
from hub.metrics import HubMetrics, update_lag
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from schemas.errors import InputRejected, Reason, TransientError
from schemas.events import ReleasePlanned
from schemas.recipients import RecipientKind
from tests.events import make_event
from tests.recipients.support import Router
from tests.support import NewTopic, RunningKafka

calls = {"flaky": 0}


def step(record: InboundRecord) -> Sequence[OutboundRecord]:
    if record.value == b"bad":
        raise InputRejected("bad", reason=Reason.INVALID_XML)
    if record.value == b"flaky" and calls["flaky"] == 0:
        calls["flaky"] += 1
        raise TransientError("once", reason=Reason.TIMEOUT)
    return [OutboundRecord("hub.events.v1", b"pk-1", record.value)]


async def test_counts_per_stage_reason_and_destination() -> None:
    metrics = HubMetrics()
    runner = StageRunner(
        stage="ingest",
        step=step,
        sink=MemorySink(),
        dlq_topic="hub.dlq.v1",
        retry=RetryPolicy(base_delay_s=0),
        observer=metrics,
    )
    records = [
        InboundRecord(Position("in.koda.v1", 0, i), b"pk-1", v, timestamp_ms=1)
        for i, v in enumerate([b"ok", b"bad", b"flaky"])
    ]
    await runner.run_batch(records)
    value = metrics.registry.get_sample_value
    assert value("hub_records_in_total", {"stage": "ingest"}) == 3
    assert value("hub_records_out_total", {"stage": "ingest", "destination": "hub.events"}) == 2
    assert value("hub_dead_letters_total", {"stage": "ingest", "reason": "invalid_xml"}) == 1
    assert value("hub_retries_total", {"stage": "ingest"}) == 1
    assert value("hub_batch_seconds_count", {"stage": "ingest"}) == 1
    exposition = generate_latest(metrics.registry).decode()
    assert "pk-1" not in exposition, "no key or identity in any label"

    snapshot = metrics.throughput().stages["ingest"]
    assert (snapshot.records_in, snapshot.records_out, snapshot.retries) == (3, 2, 1)
    assert snapshot.dead_letters == {"invalid_xml": 1}
    assert snapshot.out == {"hub.events": 2}


@pytest.mark.kafka
async def test_consumer_lag_per_group_of_this_deployment(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    topic = await new_topic("lag", partitions=1)
    producer = AIOKafkaProducer(**kafka.connection.aiokafka())
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"r{i}".encode())
    finally:
        await producer.stop()
    prefix = f"lag-{uuid.uuid4().hex[:8]}."
    await _commit(kafka.connection, f"{prefix}ingest.koda", topic, offset=2)
    await _commit(kafka.connection, f"other-{prefix}x", topic, offset=0)

    metrics = HubMetrics()
    async with GroupWatch(kafka.connection) as watch:
        await update_lag(metrics, watch, prefix)
    assert metrics.throughput().lag == {f"{prefix}ingest.koda": 3}, "only this deployment's"
    value = metrics.registry.get_sample_value
    assert value("hub_consumer_lag", {"group": f"{prefix}ingest.koda"}) == 3


async def _commit(connection: KafkaConnection, group: str, topic: str, *, offset: int) -> None:
    consumer = AIOKafkaConsumer(**connection.aiokafka(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.commit({partition: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


@pytest.mark.kafka
async def test_a_group_watch_closed_at_once_closes_quietly(kafka: RunningKafka) -> None:
    # aiokafka lets its coordinator's start-up task's cancellation out of a stop that follows
    # the start at once; the hub closes a watch like that whenever it stops early.
    for _ in range(5):
        async with GroupWatch(kafka.connection):
            pass


async def test_alerts_are_counted_by_kind_and_state() -> None:
    metrics = HubMetrics()
    gap = release_with_no_municipality()
    runner = StageRunner(
        stage="route_municipality",
        step=lambda record: Router().route(gap, RecipientKind.MUNICIPALITY).outputs,
        sink=MemorySink(),
        dlq_topic="hub.dlq.v1",
        observer=metrics,
    )
    await runner.run_batch([InboundRecord(Position("hub.events.v1", 0, 0), b"pk-1", b"x")])
    labels = {"stage": "route_municipality", "kind": "no_municipality", "state": "raised"}
    assert metrics.registry.get_sample_value("hub_alerts_total", labels) == 1


def release_with_no_municipality() -> Any:
    return make_event(ReleasePlanned)
