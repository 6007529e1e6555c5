"""One pass for every recipient kind, on the in-memory sink: each event read once, each kind's
failures its own, and the batch done only when every kind's outputs and audit are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import cast

import pytest
from structlog.testing import capture_logs

from hub.kafka import subscriber
from hub.metrics import HubMetrics
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import RecordOutcome, RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.recipients.fanout import FanOut, KindStage, VerifiedEvents
from schemas.errors import ContractViolation, SignatureRejected
from schemas.events import CanonicalEvent

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.0, max_delay_s=0.0)


def record(offset: int, value: bytes) -> InboundRecord:
    return InboundRecord(Position("hub.events.v1", 0, offset), b"person", value)


class Reads:
    """Stands in for verify + decode: counts the reads, refuses values starting with `forged`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, rec: InboundRecord) -> CanonicalEvent:
        self.count += 1
        if rec.value.startswith(b"forged"):
            raise SignatureRejected("the signature does not verify")
        # The steps below only pass it on.
        return cast(CanonicalEvent, rec.value)


class Audits:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[RecordOutcome]]] = []

    def of(self, kind: str) -> Callable[[list[RecordOutcome]], Awaitable[None]]:
        async def audit(outcomes: list[RecordOutcome]) -> None:
            self.batches.append((kind, outcomes))

        return audit


def fanout(
    sink: MemorySink, reads: Reads, audits: Audits, refuses: str = ""
) -> tuple[FanOut, VerifiedEvents]:
    events = VerifiedEvents(reads)
    out = FanOut(stage="route", events=events, retry_pause_s=0.0)
    for kind in ("nav", "health"):

        def step(rec: InboundRecord, kind: str = kind) -> Sequence[OutboundRecord]:
            value = cast(bytes, events.event(rec))
            if kind == refuses:
                raise ContractViolation(f"{kind} refuses it")
            return [OutboundRecord(f"out.{kind}.v1", rec.key, value)]

        runner = StageRunner(
            stage=f"route_{kind}",
            group=f"hub.route.{kind}",
            step=step,
            sink=sink,
            dlq_topic="dlq",
            retry=FAST,
            clock=lambda: NOW,
        )
        out.kinds.append(KindStage(runner, audits.of(kind)))
    return out, events


async def test_each_event_is_read_once_for_every_kind() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)

    await out.run_batch([record(0, b"a"), record(1, b"b")])

    assert reads.count == 2
    assert sink.values("out.nav.v1") == sink.values("out.health.v1") == [b"a", b"b"]
    assert [kind for kind, _ in audits.batches] == ["nav", "health"]


async def test_a_kind_that_fails_dead_letters_under_its_own_stage_and_group_only() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits, refuses="health")

    await out.run_batch([record(0, b"a")])

    assert sink.values("out.nav.v1") == [b"a"]
    (entry,) = sink.topics["dlq"]
    assert (entry.header(h.DLQ_STAGE), entry.header(h.DLQ_GROUP)) == (
        "route_health",
        "hub.route.health",
    )


async def test_an_event_that_fails_verification_is_dead_lettered_by_every_kind() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)

    await out.run_batch([record(0, b"forged")])

    stages = sorted(e.header(h.DLQ_STAGE) or "" for e in sink.topics["dlq"])
    assert stages == ["route_health", "route_nav"]


async def test_a_kind_whose_output_is_not_acknowledged_takes_the_batch_again_alone() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)
    sink.fail_next = 1

    await out.run_batch([record(0, b"a")])

    # Had the others run again, a decision made from the moment (consent another event of the
    # batch gave meanwhile) could differ the second time.
    assert sink.values("out.nav.v1") == sink.values("out.health.v1") == [b"a"]
    assert reads.count == 1
    assert sorted(kind for kind, _ in audits.batches) == ["health", "nav"]


async def test_a_kind_taking_its_batch_again_is_counted_and_said_under_its_own_stage() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)
    out.observer = metrics = HubMetrics()
    sink.fail_next = 1

    with capture_logs() as logs:
        await out.run_batch([record(0, b"a")])

    [said] = [e for e in logs if e["event"] == "batch.rewound"]
    assert said["stage"] in {"route_nav", "route_health"}
    assert (said["log_level"], said["reason"]) == ("warning", "broker_unavailable")
    labels = {"stage": said["stage"], "reason": "broker_unavailable"}
    assert metrics.registry.get_sample_value("hub_batches_rewound_total", labels) == 1
    assert (
        metrics.registry.get_sample_value("hub_batches_rewound_total", {**labels, "stage": "route"})
        is None
    )


async def test_a_kind_stuck_on_its_batch_is_said_as_an_error_under_its_own_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(subscriber.time, "monotonic", lambda: clock[0])

    class Outage(MemorySink):
        async def send(self, record: OutboundRecord) -> Awaitable[Position]:
            if self.fail_next:
                clock[0] += 70.0  # each failed try of the kind's batch 70 s after the last
            return await super().send(record)

    sink, reads, audits = Outage(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits, refuses="health")
    out.kinds = [k for k in out.kinds if k.runner.stage == "route_nav"]
    sink.fail_next = 3

    with capture_logs() as logs:
        await out.run_batch([record(0, b"a")])

    said = [(e["event"], e["stage"]) for e in logs if e["event"].startswith("batch.")]
    said = [(event, stage) for event, stage in said if event != "batch.done"]
    assert said == [
        ("batch.rewound", "route_nav"),
        ("batch.rewound", "route_nav"),
        ("batch.rewound", "route_nav"),
        ("batch.stuck", "route_nav"),
        ("batch.unstuck", "route_nav"),
    ]
    [stuck] = [e for e in logs if e["event"] == "batch.stuck"]
    assert (stuck["log_level"], stuck["rewinds"]) == ("error", 3)
    assert sink.values("out.nav.v1") == [b"a"]


def test_a_record_with_other_bytes_at_a_known_position_is_read_again() -> None:
    reads = Reads()
    events = VerifiedEvents(reads)
    first = record(0, b"a")
    events.event(first)
    events.event(first)
    assert reads.count == 1
    # A step timed on its own is handed other records at the same position.
    assert cast(bytes, events.event(record(0, bytes(bytearray(b"b"))))) == b"b"
    assert reads.count == 2
