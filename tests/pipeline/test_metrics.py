"""What a stage's batches show in the hub's metrics, and that no label can carry a person."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import generate_latest

from hub.metrics import HubMetrics
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from schemas.errors import InputRejected, Reason, TransientError

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
