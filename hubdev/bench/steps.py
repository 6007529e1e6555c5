"""What each step costs on its own: µs per record of every step function the hub runs, timed in
this process on the benchmark's own synthetic documents, without Kafka, so that the next
optimisation is chosen by numbers.

Every entry of `STEPS` is a name and a function of the shared `Material` that returns a *case*:
a closure that runs the step once over all its inputs and returns how many records it did.
A new step function (a new source's parse, a new kind of check) joins `STEPS` with one such
function; the material it needs (canonical events, signed records, outcomes) is built below,
once. Whole stages come from the hub itself (`build_hub`): every recipient stage it wires is
timed by `stage_steps` without a change here; a stage that reads another topic than the
canonical events adds its own line there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TypeVar

import adapters.koda
from adapters.context import TranslationContext
from adapters.koda.record import KodaHendelse
from hub.audit.steps import bookkeeping, outcome_facts
from hub.bootstrap import Hub, build_hub, translation_context
from hub.pipeline.deadletter import Failure, dead_letter
from hub.pipeline.ingest import canonical_record, ingest_step
from hub.pipeline.records import Delivery, InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import Effects, RecordOutcome, StageRunner
from hub.pipeline.sink import MemorySink
from hub.settings import HubSettings
from hub.signing.verifying import verify_record
from hub.sources import Source, sources
from hubdev.bench.corpus import SOURCE, Document
from schemas import codec
from schemas.audit import GENESIS, AuditFacts, encode_chained, record_hash
from schemas.errors import HubError
from schemas.events import CanonicalEvent

__all__ = ["STEPS", "Material", "StepCost", "measure_steps", "stage_steps"]

T = TypeVar("T")

_REPEATS = 3
_STAGE = "ingest"
_WRITER = "bench:0:19700101T000000Z:00000000"


@dataclass(frozen=True)
class StepCost:
    name: str
    records: int
    us_per_record: float
    # Records the step refused with a `HubError` (the runner dead-letters those); their cost
    # is in the figure too.
    refused: int = 0


class Material:
    """Inputs for the steps, each built once from the same documents, in pipeline order.

    The stages come from `build_hub` (which only constructs; nothing connects), so the steps
    timed are the steps the hub runs, with its signer, trusted keys and routing policy.
    """

    def __init__(self, settings: HubSettings, documents: Sequence[Document], hub: Hub) -> None:
        self.settings = settings
        self.hub = hub
        self.source: Source = sources(settings)[SOURCE]
        self.context: TranslationContext = translation_context(settings)
        self.valid = [doc for doc in documents if doc.valid]
        self.invalid = [doc for doc in documents if not doc.valid]

    @cached_property
    def inbound(self) -> list[InboundRecord]:
        return _inbound(self.source.topic, self.valid)

    @cached_property
    def inbound_invalid(self) -> list[InboundRecord]:
        return _inbound(self.source.topic, self.invalid)

    @cached_property
    def parsed(self) -> list[KodaHendelse]:
        return [adapters.koda.parse(r.value, self.context) for r in self.inbound]

    @cached_property
    def events(self) -> list[CanonicalEvent]:
        return [adapters.koda.to_canonical(p, self.context) for p in self.parsed]

    @cached_property
    def outbound(self) -> list[OutboundRecord]:
        return [canonical_record(e, self.settings.topics.events) for e in self.events]

    @cached_property
    def signed(self) -> list[OutboundRecord]:
        return [out for record in self.inbound for out in self.ingest()(record)]

    @cached_property
    def signed_inbound(self) -> list[InboundRecord]:
        """The canonical events as the recipient stages read them."""
        return [
            InboundRecord(Position(out.topic, 0, n), out.key, out.value or b"", out.headers)
            for n, out in enumerate(self.signed)
        ]

    @cached_property
    def outcomes(self) -> list[RecordOutcome]:
        return [
            RecordOutcome(record, (Delivery(out, Position(out.topic, 0, n)),))
            for n, (record, out) in enumerate(zip(self.inbound, self.signed, strict=True))
        ]

    @cached_property
    def routed(self) -> list[tuple[str, str, RecordOutcome]]:
        """(stage, recipient kind, outcome) of every kind's step on each signed event, as if
        every output were acknowledged: what the one pass's audit takes."""
        routed = []
        offset = 0
        for runner in self.runners("route_"):
            kind = runner.group.rsplit(".", 1)[-1]
            for record in self.signed_inbound:
                try:
                    effects = runner.step(record)
                except HubError:
                    continue
                if not isinstance(effects, Effects):
                    effects = Effects(effects)
                deliveries = []
                for out in effects.outputs:
                    deliveries.append(Delivery(out, Position(out.topic, 0, offset)))
                    offset += 1
                outcome = RecordOutcome(record, tuple(deliveries), notes=tuple(effects.notes))
                routed.append((runner.stage, kind, outcome))
        return routed

    @cached_property
    def facts(self) -> list[AuditFacts]:
        return [f for outcome in self.outcomes for f in outcome_facts(_STAGE, outcome)]

    def ingest(self) -> Callable[[InboundRecord], Sequence[OutboundRecord]]:
        """The ingest step of the benchmark's source, as `hub.bootstrap` wires it."""
        return ingest_step(
            self.source,
            context=self.context,
            events_topic=self.settings.topics.events,
            finish=self.hub.signer.sign_record,
        )

    def runners(self, prefix: str) -> list[StageRunner]:
        return [r for r in self.hub.runners if r.stage.startswith(prefix)]


# Runs a step over all its inputs once: (records, refused).
Case = Callable[[], tuple[int, int]]
Prepare = Callable[[Material], Case]


def _each(function: Callable[[T], object], inputs: Sequence[T]) -> Case:
    def run() -> tuple[int, int]:
        refused = 0
        for item in inputs:
            try:
                function(item)
            except HubError:
                refused += 1
        return len(inputs), refused

    return run


def koda_parse(m: Material) -> Case:
    return _each(lambda r: adapters.koda.parse(r.value, m.context), m.inbound)


def koda_to_canonical(m: Material) -> Case:
    return _each(lambda p: adapters.koda.to_canonical(p, m.context), m.parsed)


def canonical_encode(m: Material) -> Case:
    return _each(codec.encode, m.events)


def sign(m: Material) -> Case:
    return _each(m.hub.signer.sign_record, m.outbound)


def verify(m: Material) -> Case:
    return _each(lambda r: verify_record(r, m.hub.trusted), m.signed_inbound)


def audit_facts(m: Material) -> Case:
    return _each(lambda o: outcome_facts(_STAGE, o), m.outcomes)


def audit_route_facts(m: Material) -> Case:
    unrecorded = bookkeeping(m.settings.topics)

    def facts(item: tuple[str, str, RecordOutcome]) -> list[AuditFacts]:
        stage, kind, outcome = item
        return outcome_facts(stage, outcome, received=False, recipient=kind, unrecorded=unrecorded)

    return _each(facts, m.routed)


def audit_chain(m: Material) -> Case:
    """What the audit writer does per record: chain, encode canonically, hash."""

    def run() -> tuple[int, int]:
        head = GENESIS
        now = datetime.now(UTC)
        for seq, facts in enumerate(m.facts):
            value = encode_chained(facts, writer=_WRITER, seq=seq, prev=head, time=now)
            head = record_hash(value)
        return len(m.facts), 0

    return run


def dead_letter_invalid(m: Material) -> Case:
    """An invalid document: the adapter's refusal, then its dead-letter entry."""
    step = m.ingest()
    now = datetime.now(UTC)

    def refuse(record: InboundRecord) -> OutboundRecord:
        try:
            step(record)
        except HubError as exc:
            failure = Failure(exc, type(exc).__name__, 1, now, now)
            return dead_letter(
                record, failure, stage=_STAGE, group=_STAGE, topic=m.settings.topics.dlq
            )
        raise AssertionError("an invalid document passed")

    return _each(refuse, m.inbound_invalid)


def ingest_whole(m: Material) -> Case:
    return _each(m.ingest(), m.inbound)


def runner_ingest(m: Material) -> Case:
    """The ingest stage's runner over batches, with an in-memory sink: step plus bookkeeping."""
    runner = StageRunner(
        stage=_STAGE, step=m.ingest(), sink=MemorySink(), dlq_topic=m.settings.topics.dlq
    )
    return _batches(runner, m.inbound, m.settings.kafka.max_batch_records)


def _batches(runner: StageRunner, records: Sequence[InboundRecord], batch: int) -> Case:
    async def all_batches() -> None:
        for start in range(0, len(records), batch):
            await runner.run_batch(records[start : start + batch])

    def run() -> tuple[int, int]:
        asyncio.run(all_batches())
        return len(records), 0

    return run


def runner_alone(m: Material) -> Case:
    """The runner's own work per record (log context, bookkeeping, sink): a step that only
    returns an output made beforehand."""
    ready = dict(zip((r.position for r in m.inbound), m.signed, strict=True))
    runner = StageRunner(
        stage=_STAGE,
        step=lambda record: [ready[record.position]],
        sink=MemorySink(),
        dlq_topic=m.settings.topics.dlq,
    )
    return _batches(runner, m.inbound, m.settings.kafka.max_batch_records)


# In the order a valid document meets them; then the composites that contain several.
STEPS: tuple[tuple[str, Prepare], ...] = (
    ("koda: parse + validate (XML gate, XSD, record)", koda_parse),
    ("koda: to canonical event (rules, person key)", koda_to_canonical),
    ("canonical encode (RFC 8785)", canonical_encode),
    ("sign (Ed25519 detached JWS)", sign),
    ("verify (signature of a canonical event)", verify),
    ("audit: facts of an outcome (received + published)", audit_facts),
    ("audit: facts of a kind's outcome (deliveries, refusals)", audit_route_facts),
    ("audit: chain + encode + hash, per audit record", audit_chain),
    ("dead-letter an invalid document", dead_letter_invalid),
    ("stage runner alone (log context, bookkeeping)", runner_alone),
    ("= ingest step, whole (parse → signed record)", ingest_whole),
    ("= ingest runner, batches of max_batch_records", runner_ingest),
)


def stage_steps(m: Material) -> list[tuple[str, Case]]:
    """Every recipient stage the hub wires (one per recipient kind), on the signed events:
    verify, decide by the policy, project, check the contract, sign, stage the delivery."""
    return [
        (
            f"= {runner.stage} step, whole (verify → signed)",
            _each(runner.step, m.signed_inbound),
        )
        for runner in m.runners("route_")
    ]


def measure_steps(settings: HubSettings, documents: Sequence[Document]) -> list[StepCost]:
    """Time every step of `STEPS`, then every stage of `stage_steps`, over `documents` (best of
    `_REPEATS` runs)."""
    loop = asyncio.new_event_loop()
    hub = loop.run_until_complete(_constructed(settings))
    try:
        material = Material(settings, documents, hub)
        cases = [(name, prepare(material)) for name, prepare in STEPS]
        return [_measure(name, case) for name, case in [*cases, *stage_steps(material)]]
    finally:
        loop.run_until_complete(_closed(hub))
        loop.close()


def _measure(name: str, case: Case) -> StepCost:
    best, records, refused = float("inf"), 0, 0
    for _ in range(_REPEATS):
        started = time.perf_counter()
        records, refused = case()
        best = min(best, time.perf_counter() - started)
    return StepCost(name, records, best / records * 1e6 if records else 0.0, refused)


async def _constructed(settings: HubSettings) -> Hub:
    # aiokafka's clients must be made inside an event loop, though these never connect.
    return build_hub(settings)


async def _closed(hub: Hub) -> None:
    # Never started, but aiokafka complains about any client left unclosed.
    await hub.producer.stop()
    await hub.audit.stop()


def _inbound(topic: str, documents: Sequence[Document]) -> list[InboundRecord]:
    return [
        InboundRecord(Position(topic, 0, n), doc.key, doc.value, doc.headers)
        for n, doc in enumerate(documents)
    ]
