"""One pass for every recipient kind, on the in-memory sink: each event read once, each kind's
failures its own, and the batch done only when every kind's outputs and audit are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import cast

import pytest
from structlog.testing import capture_logs

from hub.audit.steps import audit_hook, received_facts
from hub.audit.writer import AuditWriter
from hub.kafka import subscriber
from hub.metrics import HubMetrics
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import DeliveryFailed, RecordOutcome, RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.recipients.base import StageContext, recipient_step, verified_event
from hub.recipients.fanout import ConsentWrites, FanOut, KindStage, VerifiedEvents
from hub.recipients.runner import IndexedRunner
from hub.routing.consent import ConsentBook, ConsentState, StagedConsent
from hub.routing.deliveries import StagedIndex
from schemas.audit import AuditFacts
from schemas.errors import ContractViolation, SignatureRejected
from schemas.events import CanonicalEvent, ConsentGiven, ConsentRecipient, ReleasePlanned
from tests.events import OSLO
from tests.recipients.support import Router
from tests.recipients.test_consent import _release, consent_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CONSENT_TOPIC = "hub.consent.v1"
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
        if rec.value.startswith(b"bug"):
            raise KeyError("a reader's bug")
        # The steps below only pass it on.
        return cast(CanonicalEvent, rec.value)


class Audits:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[RecordOutcome]]] = []

    def of(self, kind: str) -> Callable[[list[RecordOutcome]], Awaitable[None]]:
        async def audit(outcomes: list[RecordOutcome]) -> None:
            self.batches.append((kind, outcomes))

        return audit

    def failing(self, *, times: int) -> Callable[[list[RecordOutcome]], Awaitable[None]]:
        """An audit trail that does not acknowledge the first `times` batches."""
        left = [times]

        async def audit(outcomes: list[RecordOutcome]) -> None:
            if left[0] > 0:
                left[0] -= 1
                raise DeliveryFailed("the audit trail did not acknowledge")
            self.batches.append(("failing", outcomes))

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


async def test_an_event_the_consent_writer_cannot_read_is_dead_lettered_by_every_kind() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, events = fanout(sink, reads, audits)
    out.consent = ConsentWrites(ConsentBook(), CONSENT_TOPIC, events, sink)

    await out.run_batch([record(0, b"bug"), record(1, b"b")])

    assert sink.values("out.nav.v1") == sink.values("out.health.v1") == [b"b"]
    reasons = sorted((e.header(h.DLQ_STAGE), e.header(h.DLQ_REASON)) for e in sink.topics["dlq"])
    assert reasons == [("route_health", "internal_error"), ("route_nav", "internal_error")]


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
    out.alone_for_s = 3600.0
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


async def test_a_kind_failing_past_the_bound_fails_the_batch_and_alone_takes_it_again() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)
    out.alone_for_s = 0.0
    nav, health = out.kinds
    out.kinds = [nav, KindStage(health.runner, Audits().failing(times=1))]
    batch = [record(0, b"a"), record(1, b"b")]

    # Health's audit trail refuses it once: past the bound, the batch is to be rewound.
    with pytest.raises(DeliveryFailed):
        await out.run_batch(batch)
    # Consumed again, with a record more: nav takes only what it had not gone through.
    await out.run_batch([*batch, record(2, b"c")])

    assert sink.values("out.nav.v1") == [b"a", b"b", b"c"]
    assert sink.values("out.health.v1") == [b"a", b"b", b"a", b"b", b"c"]
    # Through: nothing is kept done for a later batch.
    await out.run_batch([record(0, b"a")])
    assert sink.values("out.nav.v1")[-1:] == [b"a"]


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


def every_kind(router: Router, sink: MemorySink | None = None) -> tuple[FanOut, MemorySink]:
    """The one pass over every recipient kind's real step, as the hub wires it, in memory."""
    sink = sink or MemorySink()
    events = VerifiedEvents(lambda rec: verified_event(rec, lambda _rec: None))
    out = FanOut(stage="route", events=events, retry_pause_s=0.0)
    out.consent = ConsentWrites(router.consents, CONSENT_TOPIC, events, sink)
    for contract in router.contracts():
        staged = StagedIndex(router.index)
        consent = StagedConsent(router.consents, CONSENT_TOPIC)
        ctx = StageContext(
            policy=router.policy,
            index=staged,
            deliveries_topic="hub.deliveries.v1",
            alerts_topic="hub.alerts.v1",
            topic_prefix="",
            verify=lambda _rec: None,
            sign=lambda rec: rec,
            clock=lambda: router.now,
            consent=consent,
            read=events.event,
            writes_consent=False,
        )
        runner = IndexedRunner(
            index=staged,
            consent=consent,
            catch_up=_caught_up,
            stage=f"route_{contract.kind.value.replace('-', '_')}",
            step=recipient_step(contract, ctx),
            sink=sink,
            dlq_topic="hub.dlq.v1",
            clock=lambda: router.now,
        )
        out.kinds.append(KindStage(runner, Audits().of(contract.kind.value)))
    return out, sink


async def _caught_up() -> None:
    return None


async def test_a_consent_event_writes_the_persons_consent_state_once_for_every_kind() -> None:
    router = Router()
    out, sink = every_kind(router)
    given = consent_event(ConsentGiven, at=datetime(2026, 1, 5, tzinfo=OSLO))
    release = _release(ReleasePlanned, (ConsentRecipient.HELSE,), 2)

    await out.run_batch([router.inbound(given), router.inbound(release)])

    (state,) = sink.topics[CONSENT_TOPIC]
    assert state.key == given.subject.encode()
    held = ConsentState.model_validate_json(state.value)
    assert {(g.recipient.value, g.eventid) for g in held.grants} == {
        *((r, given.id) for r in ("HELSE", "KOMMUNE", "NAV")),
        ("HELSE", release.id),
    }
    assert router.consents.get(given.subject) == held
    # Each kind still decided with the consent in force in the batch's order.
    told = {r.header(h.RECIPIENT) for records in sink.topics.values() for r in records}
    assert "health.sor-ost" in told


async def test_a_batch_consumed_again_writes_the_same_consent_state_again() -> None:
    router = Router()
    given = consent_event(ConsentGiven, at=datetime(2026, 1, 5, tzinfo=OSLO))
    out, sink = every_kind(router)
    await out.run_batch([router.inbound(given)])

    # Consumed again (a crash before the commit, or a rewind after every kind had kept its
    # view): written again, as it was, so the repeat changes nothing.
    await out.run_batch([router.inbound(given)])

    first, again = sink.topics[CONSENT_TOPIC]
    assert (again.key, again.value) == (first.key, first.value)


async def test_consent_not_acknowledged_is_written_again_alone() -> None:
    class ConsentOutage(MemorySink):
        """Refuses the first consent state, as a broker leading that topic's partition
        would while it is away."""

        refused = 0

        async def send(self, record: OutboundRecord) -> Awaitable[Position]:
            if record.topic == CONSENT_TOPIC and not self.refused:
                self.refused += 1
                raise DeliveryFailed("the consent topic's leader is away")
            return await super().send(record)

    router = Router()
    out, sink = every_kind(router, ConsentOutage())
    out.observer = metrics = HubMetrics()
    given = consent_event(ConsentGiven, at=datetime(2026, 1, 5, tzinfo=OSLO))

    with capture_logs() as logs:
        await out.run_batch([router.inbound(given)])

    assert len(sink.topics[CONSENT_TOPIC]) == 1
    # Only the write was taken again: every kind went through once, and decided once.
    rewound = [e["stage"] for e in logs if e["event"] == "batch.rewound"]
    assert rewound == ["route_consent"]
    assert sorted(e["stage"] for e in logs if e["event"] == "batch.done") == sorted(
        kind.runner.stage for kind in out.kinds
    )
    labels = {"stage": "route_consent", "reason": "broker_unavailable"}
    assert metrics.registry.get_sample_value("hub_batches_rewound_total", labels) == 1


async def test_each_input_is_put_on_record_as_taken_once_before_any_kind_decides() -> None:
    sink, reads, audits = MemorySink(), Reads(), Audits()
    out, _ = fanout(sink, reads, audits)
    taken: list[tuple[list[Position], int]] = []

    async def take(records: Sequence[InboundRecord]) -> None:
        taken.append(([r.position for r in records], len(audits.batches)))

    out.taken = take
    batch = [record(0, b"a"), record(1, b"b")]
    await out.run_batch(batch)

    assert taken == [([r.position for r in batch], 0)]
    assert [kind for kind, _ in audits.batches] == ["nav", "health"]


async def test_received_is_on_the_trail_once_per_input_and_never_per_kind() -> None:
    # The facts the wiring writes: `route` takes each input; a kind's audit adds only decisions.
    audit = RecordingWriter()
    writer = cast(AuditWriter, audit)
    batch = [record(0, b"a"), record(1, b"b")]
    await writer.append(received_facts("route", batch))
    outcomes = [RecordOutcome(record=r, deliveries=()) for r in batch]
    await audit_hook(writer, "route_nav", received=False, recipient="nav")(outcomes)
    await audit_hook(writer, "receipts")(outcomes[:1])

    steps = [(f.stage, f.step.value, f.input.offset if f.input else None) for f in audit.facts]
    assert steps == [
        ("route", "received", 0),
        ("route", "received", 1),
        ("receipts", "received", 0),
    ]


class RecordingWriter:
    def __init__(self) -> None:
        self.facts: list[AuditFacts] = []

    async def append(self, facts: Sequence[AuditFacts]) -> None:
        self.facts.extend(facts)
