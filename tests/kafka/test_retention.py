"""Records deleted by retention before a stage read them are an alert and a log line, on the
real broker: never a silent skip to `earliest`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from hub.bootstrap import build_hub
from hub.kafka.groups import GroupWatch
from hub.recipients.alerts import fold_alerts
from hub.settings import HubSettings
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from schemas.alerts import OperationsAlertKind
from tests.e2e.harness import HubEnv, all_log_lines, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]


async def committed(settings: HubSettings, group: str, topic: str, at_least: int) -> None:
    """Wait until `group` has committed `at_least` records of `topic`."""
    deadline = time.monotonic() + 60
    async with GroupWatch(settings.kafka_connection()) as watch:
        while True:
            lags = {g.group_id: g for g in await watch.groups(group)}
            if group in lags and lags[group].committed_on(topic) >= at_least:
                return
            assert time.monotonic() < deadline, f"{group} did not commit {at_least}"
            await asyncio.sleep(0.3)


async def delete_up_to(settings: HubSettings, topic: str, offset: int) -> None:
    """What retention does to old segments: the partition now starts at `offset`."""
    admin = AIOKafkaAdminClient(**settings.kafka_connection().aiokafka())
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(offset)})
    finally:
        await admin.close()


async def test_records_deleted_before_the_group_read_them_raise_an_alert(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub", partitions=1)
    await env.create_topics()
    settings = env.settings()
    topic, group = settings.topics.in_koda, f"{settings.kafka.group_prefix}.ingest.koda"
    documents = [render(r) for r in valid_records(5, seed=11)]

    await env.publish(documents[:2])
    async with build_hub(settings):
        await committed(settings, group, topic, 2)
    # While the hub is down, three more arrive, and retention deletes them (and the first two).
    await env.publish(documents[2:])
    await delete_up_to(settings, topic, 5)

    with all_log_lines() as logs:
        async with build_hub(settings):
            records = await collect(
                settings.kafka_connection(),
                settings.topics.alerts,
                until=lambda rs: any(b"records_expired" in r.value for r in rs),
            )

    expired = [
        a
        for a in fold_alerts([r.value for r in records])
        if a.kind is OperationsAlertKind.RECORDS_EXPIRED
    ]
    assert len(expired) == 1, "only the group whose records were lost, once"
    (alert,) = expired
    assert (alert.group, alert.topic, alert.partition) == (group, topic, 0)
    assert alert.detail.startswith("3 record(s) at offsets 2..4 were deleted by retention")
    lines = [e for e in logs if e["event"] == "offsets.fell_off_retention"]
    assert [(e["group"], e["committed"], e["log_start"], e["skipped"]) for e in lines] == [
        (group, 2, 5, 3)
    ]
    assert lines[0]["log_level"] == "error"


async def test_a_group_that_lost_nothing_raises_nothing(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub", partitions=1)
    await env.create_topics()
    settings = env.settings()
    topic, group = settings.topics.in_koda, f"{settings.kafka.group_prefix}.ingest.koda"
    documents = [render(r) for r in valid_records(3, seed=12)]
    await env.publish(documents[:2])
    async with build_hub(settings):
        await committed(settings, group, topic, 2)
    # Retention deleted only what the group had processed.
    await delete_up_to(settings, topic, 2)
    await env.publish(documents[2:])
    with all_log_lines() as logs:
        async with build_hub(settings):
            await committed(settings, group, topic, 3)
    assert not [e for e in logs if e["event"] == "offsets.fell_off_retention"]
    assert [e["group"] for e in logs if e["event"] == "partitions.assigned"].count(group) >= 1
