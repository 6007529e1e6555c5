"""The running hub checks the whole audit trail now and then and says so in its metrics: intact
while it is, not intact once a record on the topic has been altered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from hub.audit.tools import read_all
from hub.bootstrap import build_hub
from hub.kafka.connection import KafkaConnection
from hub.metrics import HubMetrics
from hubdev.demo import KODA_SAMPLES
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]


async def _until(metrics: HubMetrics, holds: Callable[[float, float], bool]) -> bool:
    """Whether (intact, verified at) come to satisfy `holds` within a minute."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        intact = metrics.registry.get_sample_value("hub_audit_intact") or 0.0
        at = metrics.registry.get_sample_value("hub_audit_verified_at_seconds") or 0.0
        if holds(intact, at):
            return True
        await asyncio.sleep(0.2)
    return False


async def _alter_a_record(bootstrap: KafkaConnection, topic: str) -> None:
    """Append a copy of the trail's first record with one byte of its value changed."""
    (first, *_) = await read_all(bootstrap, topic)
    value = first.value.replace(b'"', b"'", 1)
    producer = AIOKafkaProducer(**bootstrap.aiokafka())
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value=value,
            key=first.key,
            headers=list(first.headers),
            partition=first.position.partition,
        )
    finally:
        await producer.stop()


async def test_the_hub_reports_whether_its_trail_is_intact(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path, overrides={"audit": {"verify_every_s": 0.5}})
    await env.create_topics()
    settings = env.settings()
    await env.publish([path.read_bytes() for path in sorted(KODA_SAMPLES.glob("*.xml"))[:2]])
    async with build_hub(settings) as hub:
        trail = await collect(env.connection, settings.topics.audit, until=bool)
        assert trail
        written = time.time()
        assert await _until(hub.metrics, lambda intact, at: intact == 1.0 and at > written)
        await _alter_a_record(env.connection, settings.topics.audit)
        altered = time.time()
        assert await _until(hub.metrics, lambda intact, at: intact == 0.0 and at > altered)


async def test_without_the_setting_the_hub_does_not_check(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path)
    await env.create_topics()
    async with build_hub(env.settings()) as hub:
        await asyncio.sleep(1.0)
        assert hub.metrics.registry.get_sample_value("hub_audit_verified_at_seconds") == 0.0
