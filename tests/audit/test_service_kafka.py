"""The audit side of a running hub on the real broker: a stage's batch is on record before the
hook returns, the projection follows the topic, stopping seals the chain, rebuild agrees."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hub.audit.projection import Projection
from hub.audit.service import AuditService
from hub.audit.tools import read_all, rebuild_projection, verify_topics
from hub.kafka.admin import ensure_topics
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.pipeline.runner import RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.settings import AuditSettings, HubSettings, TopicSettings
from hub.topics import catalogue
from schemas.audit import AuditStep, decode_record
from schemas.errors import InputRejected
from tests.audit.helpers import new_signer, public_keys

pytestmark = [pytest.mark.kafka]

SIGNER = new_signer()


def settings_for(kafka: Any, tmp_path: Path) -> HubSettings:
    suffix = uuid.uuid4().hex[:8]
    return HubSettings(
        data_dir=tmp_path,
        kafka=kafka.kafka_settings(partitions=2),
        topics=TopicSettings(
            in_koda=f"in-{suffix}",
            events=f"events-{suffix}",
            dlq=f"dlq-{suffix}",
            audit=f"audit-{suffix}",
            audit_checkpoints=f"anchors-{suffix}",
        ),
        audit=AuditSettings(checkpoint_every_records=50, checkpoint_every_s=1.0),
    )


def step(record: InboundRecord) -> Sequence[OutboundRecord]:
    if record.position.offset % 10 == 9:
        raise InputRejected("not a document")
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, str(record.position)))
    headers = text_headers([(h.EVENT_ID, event_id), (h.EVENT_TYPE, "t.v1")])
    return [SIGNER.sign_record(OutboundRecord("events", b"pk-" + b"0" * 32, b"{}", headers))]


async def wait_for(predicate: Any, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_a_batch_is_on_record_projected_and_sealed(kafka: Any, tmp_path: Path) -> None:
    settings = settings_for(kafka, tmp_path)
    await ensure_topics(kafka.connection, catalogue(settings))
    service = AuditService(settings, SIGNER)
    runner = StageRunner(
        stage="ingest", step=step, sink=MemorySink(), dlq_topic="dlq", retry=RetryPolicy(1)
    )
    records = [InboundRecord(Position("in", 0, i), None, b"<x/>") for i in range(100)]
    await service.start()
    try:
        hook = service.hook("ingest")
        await hook(await runner.run_batch(records[:60]))
        await hook(await runner.run_batch(records[60:]))
        on_topic = await read_all(kafka.connection, settings.topics.audit)
        steps = [decode_record(r.value).step for r in on_topic]
        # acknowledged before the hook returned: nothing to wait for
        assert steps.count(AuditStep.RECEIVED) == 100
        assert steps.count(AuditStep.PUBLISHED) == 90
        assert steps.count(AuditStep.REJECTED) == steps.count(AuditStep.DEAD_LETTERED) == 10
        projection = service.projection
        await wait_for(lambda: projection.count() == len(on_topic))
        first_id = str(uuid.uuid5(uuid.NAMESPACE_URL, str(records[0].position)))
        assert [r.step for r in projection.trail(first_id)] == ["received", "published"]
    finally:
        await service.stop()

    report = await verify_topics(
        kafka.connection,
        settings.topics.audit,
        settings.topics.audit_checkpoints,
        public_keys(SIGNER),
    )
    assert report.intact
    (writer,) = report.writers
    assert writer.closed
    rebuilt = Projection(tmp_path / "rebuilt.sqlite")
    count = await rebuild_projection(kafka.connection, settings.topics.audit, rebuilt)
    assert count == writer.last_seq + 1
