"""A batch whose outputs the broker did not acknowledge is consumed again, counted and, when it
keeps coming back, said as an error a person sees."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from structlog.testing import capture_logs

from hub.kafka import subscriber
from hub.metrics import HubMetrics
from hub.pipeline.records import InboundRecord, OutboundRecord
from hub.pipeline.sink import MemorySink
from tests.pipeline.test_refusals import run_until_committed
from tests.support import NewTopic, RunningKafka


def test_a_stage_rewound_past_the_bound_is_an_error_once_per_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(subscriber.time, "monotonic", lambda: clock[0])
    stuck = subscriber._Stuck("ingest_koda", after_s=120)
    with capture_logs() as logs:
        for _ in range(60):  # two and a half minutes of rewinds every 2.5 s
            stuck.rewound("broker_unavailable")
            clock[0] += 2.5
        stuck.cleared()
        stuck.rewound("broker_unavailable")  # a new outage starts counting afresh
    said = [(e["event"], e.get("rewinds")) for e in logs]
    assert said == [("batch.stuck", 49), ("batch.unstuck", 60)]
    [error] = [e for e in logs if e["event"] == "batch.stuck"]
    assert error["log_level"] == "error"
    assert error["since_s"] == 120


@pytest.mark.kafka
async def test_a_batch_the_broker_did_not_take_is_consumed_again_and_counted(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    source, dlq = await new_topic("in"), await new_topic("dlq")
    sink = MemorySink()
    sink.fail_next = 2  # the first two batches' outputs are not acknowledged

    def forward(record: InboundRecord) -> Sequence[OutboundRecord]:
        return [OutboundRecord("out", record.key, record.value)]

    metrics = HubMetrics()
    started = time.monotonic()
    await run_until_committed(
        kafka, source=source, step=forward, dlq=dlq, inputs=[b"one"], metrics=metrics, sink=sink
    )
    assert time.monotonic() - started < 30
    assert sink.values("out")[-1] == b"one"
    rewound = metrics.registry.get_sample_value(
        "hub_batches_rewound_total", {"stage": "test", "reason": "broker_unavailable"}
    )
    assert rewound == 2
