"""Builds the running hub from its settings: the one place where dependencies are wired.

Nothing connects when this module is imported; `build_hub` only constructs, and `Hub` connects
when it is entered (`async with build_hub(settings) as hub: ...`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any, Protocol, Self

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from starlette.applications import Starlette

from adapters.context import TranslationContext
from hub.audit.service import AuditService
from hub.audit.tools import verify_topics
from hub.kafka.admin import TopicSpec, broker_count, describe_topics, ensure_topics, list_topics
from hub.kafka.connection import KafkaConnection
from hub.kafka.follow_index import TopicFollower
from hub.kafka.groups import Expired, GroupWatch
from hub.kafka.handover import Handover, take_over
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.provision import ProvisioningSink
from hub.kafka.retention import RetentionGuard
from hub.kafka.subscriber import Batches, OutcomeHook, subscribe_stage
from hub.metrics import HubMetrics, follow_audit, follow_dead_letters, follow_lag
from hub.operations.entries import DeadLetter, Status, load_dead_letters
from hub.operations.expiry import ExpiryWatch
from hub.pipeline.control import Screen
from hub.pipeline.ingest import ingest_step
from hub.pipeline.parking import Parking, ParkingBook, ParkingState, parking_key, state_record
from hub.pipeline.runner import StageRunner
from hub.pipeline.sink import RecordSink
from hub.privacy import PersonKeys
from hub.recipients.alerts import alert_record, records_expired
from hub.recipients.base import (
    Contract,
    StageContext,
    recipient_step,
    verified_event,
)
from hub.recipients.correctional import Correctional
from hub.recipients.deadlines import DeadlineWatcher
from hub.recipients.fanout import ConsentWrites, FanOut, KindStage, VerifiedEvents
from hub.recipients.health import Health
from hub.recipients.municipality import Municipality
from hub.recipients.nav import Nav
from hub.recipients.overwrites import OverwriteRepair
from hub.recipients.person import PersonRecipient
from hub.recipients.police_register import PoliceRegister
from hub.recipients.receipts import ReceiptContext, ReceiptTopics, receipt_step
from hub.recipients.runner import IndexedRunner
from hub.reference import MunicipalityRegister, UnitRegister
from hub.routing.consent import ConsentBook, ConsentState, StagedConsent, consent_record
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, StagedIndex, entry_record
from hub.routing.policy import Policy, load_policy
from hub.settings import HubSettings
from hub.signing.keys import key_store
from hub.signing.signer import Signer
from hub.signing.verifying import TrustedKeys, verify_record
from hub.stages import Stage, StageKind, stages
from hub.topics import (
    Severity,
    catalogue,
    check_topics,
    place_topic_config,
    recipient_catalogue,
    replicas_of,
)
from hub.web.app import ReadinessProbe, build_app, health_routes
from hub.web.console.app import Console, console_middleware, console_routes
from hub.web.ingress import Ingress, ingress_routes
from schemas.alerts import OperationsAlert
from schemas.errors import HubError, PermanentError, Reason

__all__ = [
    "Hub",
    "Routing",
    "broker_ready",
    "build_console",
    "build_hub",
    "build_web_app",
    "load_routing",
    "load_signer",
    "person_keys",
    "translation_context",
]


log = structlog.get_logger(__name__)

# A source document larger than this is translated in a worker thread (`StageRunner`): it can
# take the XML gate and the schema tens of milliseconds or more; a typical one takes well
# under a millisecond, less than the hop to a thread.
_LARGE_DOCUMENT_BYTES = 64 * 1024


def person_keys(settings: HubSettings) -> PersonKeys:
    return PersonKeys(settings.person_key_secret.get_secret_value().encode("utf-8"))


def translation_context(settings: HubSettings) -> TranslationContext:
    return TranslationContext(
        person_key=person_keys(settings),
        allow_test_identities=settings.test_identities_allowed,
        max_document_bytes=settings.max_document_bytes,
    )


@dataclass(frozen=True)
class Routing:
    """The routing policy and the reference data, read and checked once at start-up."""

    policy: Policy
    municipalities: MunicipalityRegister
    units: UnitRegister


def load_routing(settings: HubSettings) -> Routing:
    """Raises `PolicyError` or `ReferenceError` (one line each) for a file the hub cannot use."""
    paths = settings.routing
    policy = load_policy(paths.policy_path)
    municipalities = MunicipalityRegister.load(paths.municipalities_path)
    units = UnitRegister.load(paths.units_path, municipalities)
    return Routing(policy, municipalities, units)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_signer(settings: HubSettings) -> Signer:
    """The current signing key. Outside production a first key is made when there is none,
    so a fresh clone runs without manual steps; production refuses to start without one."""
    store = key_store(settings)
    if settings.may_generate_dev_key:
        made = store.ensure()
        if made is not None:
            log.warning("signing.dev_key_generated", kid=made.kid, folder=str(store.directory))
    return store.signer()


@dataclass
class Hub:
    """Every stage of the pipeline in one process, and the clients they share."""

    settings: HubSettings
    connection: KafkaConnection
    broker: KafkaBroker
    producer: AIOKafkaProducer
    routing: Routing
    follower: TopicFollower
    consent: TopicFollower
    parking: TopicFollower
    watcher: DeadlineWatcher
    overwrites: list[OverwriteRepair[Any]]
    audit: AuditService
    signer: Signer
    trusted: TrustedKeys
    retention: RetentionGuard
    expiry: ExpiryWatch
    metrics: HubMetrics = field(default_factory=HubMetrics)
    runners: list[StageRunner] = field(default_factory=list)
    # Groups that read in place of retired ones, started where those stood (`take_over`).
    handovers: list[Handover] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    _running: AsyncExitStack = field(default_factory=AsyncExitStack)
    # What the last stop had to give up waiting for (`stop_timeout_s`), if anything.
    abandoned: list[str] = field(default_factory=list)
    # Background tasks still running after the stop: no input is lost with them, but the
    # event loop's own clean-up would wait for them.
    lingering: list[str] = field(default_factory=list)

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            # Registered before anything starts: a start that fails half-way still closes every
            # client that was made (stopping one that never started is harmless).
            stack.push_async_callback(self.producer.stop)
            stack.push_async_callback(self.audit.stop)
            stack.push_async_callback(self.follower.stop)
            stack.push_async_callback(self.consent.stop)
            stack.push_async_callback(self.parking.stop)
            specs = catalogue(self.settings) + recipient_catalogue(
                self.settings, self.routing.policy
            )
            created = await ensure_topics(self.connection, specs, timeout=30.0)
            if created:
                log.info("topics.created", topics=created)
            await self._check_topics(specs)
            await _start_together(
                self.producer, self.audit, self.follower, self.consent, self.parking
            )
            # Open before the consumers: their first assignment is checked for lost records.
            guard = await stack.enter_async_context(self.retention)
            for handover in self.handovers:
                await take_over(
                    self.connection,
                    handover.group,
                    topic=handover.topic,
                    retired=handover.retired,
                )
            await self.broker.start()
            self._running = stack.pop_all()
        self._tasks.append(asyncio.create_task(self.watcher.run(), name="deadline-watcher"))
        for repair in self.overwrites:
            name = f"{repair.name}-overwrites"
            self._tasks.append(asyncio.create_task(repair.run(), name=name))
        self._tasks.append(asyncio.create_task(self.expiry.run(), name="dead-letter-expiry"))
        lag = self._follow_lag(guard.watch)
        self._tasks.append(asyncio.create_task(lag, name="consumer-lag"))
        verify_every_s = self.settings.audit.verify_every_s
        if verify_every_s is not None:
            checks = follow_audit(self.metrics, self._audit_intact, verify_every_s)
            self._tasks.append(asyncio.create_task(checks, name="audit-verify"))
        count_every_s = self.settings.metrics.dead_letters_every_s
        if count_every_s is not None:
            counts = follow_dead_letters(self.metrics, self._open_dead_letters, count_every_s)
            self._tasks.append(asyncio.create_task(counts, name="dead-letter-count"))
        log.info("hub.started", stages=[r.stage for r in self.runners])
        return self

    async def _check_topics(self, specs: list[TopicSpec]) -> None:
        """Refuse to start on a topic whose settings risk data; warn of the rest."""
        found = await describe_topics(self.connection, [spec.name for spec in specs])
        brokers = await broker_count(self.connection)
        findings = check_topics(self.settings, specs, found, brokers)
        for finding in findings:
            if finding.severity is Severity.WARN:
                log.warning("topics.check", detail=finding.line())
        refusals = [f for f in findings if f.severity is Severity.REFUSE]
        if refusals:
            more = f" (and {len(refusals) - 1} more: `hub topics check`)" if refusals[1:] else ""
            raise PermanentError(refusals[0].line() + more, reason=Reason.TOPIC_MISCONFIGURED)

    async def catch_up_state(self) -> None:
        """Before a recipient stage's batch: the deliveries and consents on their topics now."""
        await self.follower.catch_up()
        await self.consent.catch_up()

    async def _follow_lag(self, groups: GroupWatch) -> None:
        # The trailing dot: this deployment's groups, not another's whose prefix starts alike.
        prefix = f"{self.settings.kafka.group_prefix}."
        # A retired group stands still forever: its lag is no one's.
        retired = {group for handover in self.handovers for group in handover.retired}
        every_s = self.settings.metrics.lag_every_s
        await follow_lag(self.metrics, groups, prefix, every_s, retired=retired)

    async def _open_dead_letters(self) -> Counter[tuple[str, str]]:
        """Open entries by stage and reason, as `hub dlq list` and the console count them."""
        entries = await load_dead_letters(self.settings)
        return Counter((e.stage, e.reason) for e in entries if e.status is Status.OPEN)

    async def _audit_intact(self) -> bool:
        """What `hub audit verify` says of the whole trail, with the hub's own public keys."""
        settings, topics = self.settings, self.settings.topics
        keys = key_store(settings).load().public_keys()
        report = await verify_topics(self.connection, topics.audit, topics.audit_checkpoints, keys)
        return report.intact

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        bound = self.settings.stop_timeout_s
        for task in self._tasks:
            task.cancel()
        # Consumers first, so no batch is half-way when the producers go; then the index
        # follower, then the audit chain is sealed with its closing checkpoint, then the producer.
        # Each within a bound: with the broker gone, aiokafka may wait for it without end, deaf
        # to cancellation. Giving up loses nothing: no input was committed before its outputs
        # were acknowledged, so what was in flight is processed again, and the audit chain is
        # left open as by a crash.
        # The background tasks hold no input (they watch, count and alert, and what they
        # raise is raised again at the next start), so one deaf to its cancellation is named
        # with where it waits, but is no input abandoned.
        self.lingering = await _settled(self._tasks, bound)
        parts: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("consumers", self.broker.stop),
            ("producers, audit and followers", self._running.aclose),
        ]
        for what, stop in parts:
            if not await _within(stop, bound, what):
                self.abandoned.append(what)
        log.info("hub.stopped", abandoned=self.abandoned)


async def _settled(tasks: list[asyncio.Task[None]], seconds: float) -> list[str]:
    """Wait up to `seconds` for cancelled `tasks` to end; name those that did not."""
    if not tasks:
        return []
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    if pending:
        log.warning(
            "hub.tasks_still_running",
            after_s=seconds,
            tasks={task.get_name(): _waiting_at(task) for task in pending},
        )
    return sorted(task.get_name() for task in pending)


def _waiting_at(task: asyncio.Task[None]) -> str:
    """Where a task is suspended: its two innermost frames outside asyncio, as
    `module:function:line`."""
    awaited: Any = task.get_coro()
    chain: list[str] = []
    # Down the chain of what each coroutine awaits, to the last one with a frame of its own.
    while awaited is not None:
        frame: FrameType | None = getattr(awaited, "cr_frame", None) or getattr(
            awaited, "ag_frame", None
        )
        if frame is not None:
            module = frame.f_globals.get("__name__", "?")
            chain.append(f"{module}:{frame.f_code.co_name}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    # asyncio's own frames (sleep, wait) say nothing of who waits for what.
    named = [where for where in chain if not where.startswith("asyncio.")]
    return " -> ".join(named[-2:]) or "unknown"


async def _within(stop: Callable[[], Awaitable[object]], seconds: float, what: str) -> bool:
    """Run a part of the stop for at most `seconds`; False when it did not end cleanly."""
    task = asyncio.ensure_future(stop())
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning("hub.stop_abandoned", what=what, after_s=seconds)
        return False
    if task.cancelled():
        # aiokafka's fetcher lets the cancellation of its own fetch tasks out of `stop()`.
        log.warning("hub.stop_incomplete", what=what, error="CancelledError")
        return False
    error = task.exception()
    if isinstance(error, KafkaError):
        log.warning("hub.stop_incomplete", what=what, error=type(error).__name__)
        return False
    if error is not None:
        raise error
    return True


class _TogetherBroker(KafkaBroker):
    """FastStream's broker, its stages' consumers started together.

    aiokafka's consumer returns from `start()` only once its group has given it partitions.
    FastStream starts them one after the other, so a hub starting beside a running one (a
    restart after a crash, a second replica) waited out each of its ten groups' rebalances in
    turn: over a minute in the chaos suite. Together, the waits overlap.
    """

    async def start(self) -> None:
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def _overwrite_repairs(
    settings: HubSettings,
    index: DeliveryIndex,
    consent: ConsentBook,
    parked: ParkingBook,
    sink: RecordSink,
    metrics: HubMetrics,
) -> list[OverwriteRepair[Any]]:
    """What writes the routing state again where a stalled old owner's late write overwrote
    it on its compacted topic (`hub.recipients.overwrites`)."""
    topics, every_s = settings.topics, settings.routing.overwrite_repair_every_s
    deliveries: OverwriteRepair[DeliveryEntry] = OverwriteRepair(
        name="deliveries",
        view=index,
        record_of=lambda entry: entry_record(entry, topics.deliveries),
        key_of=lambda entry: entry.messageid,
        sink=sink,
        every_s=every_s,
        on_rewritten=metrics.state_rewritten.labels("deliveries").inc,
    )
    consents: OverwriteRepair[ConsentState] = OverwriteRepair(
        name="consent",
        view=consent,
        record_of=lambda state: consent_record(state, topics.consent),
        key_of=lambda state: state.subject,
        sink=sink,
        every_s=every_s,
        on_rewritten=metrics.state_rewritten.labels("consent").inc,
    )
    parking: OverwriteRepair[ParkingState] = OverwriteRepair(
        name="parking",
        view=parked,
        record_of=lambda state: state_record(state, topics.parking),
        key_of=lambda state: parking_key(state.group, state.person).decode(),
        sink=sink,
        every_s=every_s,
        on_rewritten=metrics.state_rewritten.labels("parking").inc,
    )
    return [deliveries, consents, parking]


def _alert_publisher(
    sink: RecordSink, signer: Signer, topic: str
) -> Callable[[OperationsAlert], Awaitable[None]]:
    """Publishes an operations alert, signed, and waits until the broker has it."""

    async def publish(alert: OperationsAlert) -> None:
        await (await sink.send(signer.sign_record(alert_record(alert, topic))))

    return publish


def _alert_raiser(
    publish: Callable[[OperationsAlert], Awaitable[None]], clock: Callable[[], dt.datetime]
) -> Callable[[Expired], Awaitable[None]]:
    async def raise_alert(gap: Expired) -> None:
        await publish(records_expired(gap, clock()))

    return raise_alert


def _expiry_watch(
    settings: HubSettings,
    parking: TopicFollower,
    publish: Callable[[OperationsAlert], Awaitable[None]],
    clock: Callable[[], dt.datetime],
) -> ExpiryWatch:
    book = parking.view
    assert isinstance(book, ParkingBook)  # noqa: S101 - built so in build_hub

    async def blockers() -> dict[str, int]:
        await parking.catch_up()
        return book.blockers()

    async def load() -> list[DeadLetter]:
        return await load_dead_letters(settings)

    return ExpiryWatch(
        load=load,
        blockers=blockers,
        publish=publish,
        retention=dt.timedelta(days=settings.dlq.retention_days),
        warn_before=dt.timedelta(days=settings.dlq.warn_before_days),
        every_s=settings.dlq.check_every_s,
        clock=clock,
    )


class _Starts(Protocol):
    async def start(self) -> None: ...


async def _start_together(*clients: _Starts) -> None:
    """Start `clients` side by side: each connects on its own, and the followers read their
    state topics to the end, which is most of a restart's wait. A failure cancels the others
    and is raised as itself (a `HubError` is one line at the CLI, a group of them would not)."""
    try:
        async with asyncio.TaskGroup() as starting:
            for client in clients:
                starting.create_task(client.start())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0]  # noqa: B904 - the group is only the TaskGroup's wrapping


def build_hub(
    settings: HubSettings,
    *,
    clock: Callable[[], dt.datetime] = _utcnow,
) -> Hub:
    kafka = settings.kafka
    connection = settings.kafka_connection()
    routing = load_routing(settings)
    broker = _TogetherBroker(
        connection.servers,
        security=connection.faststream_security(),
        client_id=kafka.client_id,
        request_timeout_ms=kafka.request_timeout_ms,
        # Outputs go through our own producer (exact header bytes); topics are made explicitly.
        consumer_only=True,
        allow_auto_create_topics=False,
        logger=logging.getLogger("hub.faststream"),
        # FastStream's per-message lines would repeat what the stages log, in clear.
        log_level=logging.DEBUG,
        # Receipts topics are made on first use; this is how soon their consumer finds them.
        metadata_max_age_ms=settings.routing.topic_discovery_ms,
    )
    producer = build_producer(connection, kafka)
    signer = load_signer(settings)
    audit_service = AuditService(settings, signer)
    sink = KafkaRecordSink(producer)
    index = DeliveryIndex()
    follower = TopicFollower(connection, settings.topics.deliveries, index)
    consent_book = ConsentBook()
    consent = TopicFollower(connection, settings.topics.consent, consent_book)
    parked = ParkingBook()
    parking = TopicFollower(connection, settings.topics.parking, parked)
    metrics = HubMetrics()
    watcher = DeadlineWatcher(
        index=index,
        sink=sink,
        deliveries_topic=settings.topics.deliveries,
        alerts_topic=settings.topics.alerts,
        sign=signer.sign_record,
        clock=clock,
        every_s=settings.routing.deadline_check_every_s,
        overdue=metrics.receipts_overdue.set,
        blocked=parked.blocked_people,
        blocked_days=routing.policy.settings.blocked_release_days,
        on_alert=lambda alert: metrics.alert("deadlines", alert.kind.value, alert.state.value),
    )
    publish_alert = _alert_publisher(sink, signer, settings.topics.alerts)
    hub = Hub(
        settings=settings,
        connection=connection,
        broker=broker,
        producer=producer,
        routing=routing,
        follower=follower,
        consent=consent,
        parking=parking,
        watcher=watcher,
        overwrites=_overwrite_repairs(settings, index, consent_book, parked, sink, metrics),
        audit=audit_service,
        signer=signer,
        trusted=TrustedKeys(lambda: key_store(settings).load().public_keys()),
        metrics=metrics,
        retention=RetentionGuard(connection, _alert_raiser(publish_alert, clock)),
        expiry=_expiry_watch(settings, parking, publish_alert, clock),
    )
    shared = _Shared(hub, sink, index, clock, translation_context(settings))
    # The pipeline's stages come from its table (`hub.stages`): what each reads, as which
    # group; what handles it is built here.
    for stage in stages(settings, routing.policy):
        handler, after = _HANDLERS[stage.kind](shared, stage)
        subscribe_stage(
            broker,
            handler,
            topic=stage.reads,
            pattern=stage.pattern,
            group_id=stage.group,
            kafka=kafka,
            after=after,
            on_assigned=hub.retention.assigned,
            description=stage.description,
        )
    return hub


@dataclass(frozen=True)
class _Shared:
    """What every stage's handler is built from, made once in `build_hub`."""

    hub: Hub
    sink: RecordSink
    index: DeliveryIndex
    clock: Callable[[], dt.datetime]
    context: TranslationContext


def _ingest(shared: _Shared, stage: Stage) -> tuple[Batches, OutcomeHook | None]:
    hub, settings = shared.hub, shared.hub.settings
    assert stage.source is not None  # noqa: S101 - every ingest stage names its source
    runner = StageRunner(
        stage="ingest",
        group=stage.group,
        parking=_parking(hub, stage.group),
        # The inbound topics are written by the sources: no `hub-*` header of theirs counts.
        screen=Screen(hub.trusted, untrusted_topic=True),
        observer=hub.metrics,
        step=ingest_step(
            stage.source,
            context=shared.context,
            events_topic=settings.topics.events,
            finish=hub.signer.sign_record,
        ),
        sink=shared.sink,
        dlq_topic=settings.topics.dlq,
        thread_over_bytes=_LARGE_DOCUMENT_BYTES,
    )
    hub.runners.append(runner)
    return runner, hub.audit.hook("ingest")


def _parking(hub: Hub, group: str, *, per_topic: bool = False) -> Parking:
    """Per-person order for the stage of consumer group `group` (see hub.pipeline.parking);
    `per_topic` for a stage that reads several topics, each written by someone else."""
    book = hub.parking.view
    assert isinstance(book, ParkingBook)  # noqa: S101 - built so in build_hub
    return Parking(
        group=group,
        topic=hub.settings.topics.parking,
        book=book,
        catch_up=hub.parking.catch_up,
        per_topic=per_topic,
    )


def _contracts(routing: Routing) -> list[Contract]:
    return [
        PoliceRegister(),
        Nav(),
        Municipality(routing.municipalities),
        Health(routing.units),
        Correctional(),
        PersonRecipient(routing.policy, routing.municipalities, routing.units),
    ]


def _route(shared: _Shared, stage: Stage) -> tuple[Batches, OutcomeHook | None]:
    """One handler of the canonical events for every recipient kind.

    Each event is read, verified and decoded once, then taken by every kind's stage
    (`hub.recipients.fanout`). A kind's stage keeps the group name it had when it read the
    events in a group of its own: its parking, its dead-letter entries and the replays of them
    are addressed by it. Each kind puts its own decisions on record; the pass, its inputs.
    """
    hub, sink, index, clock = shared.hub, shared.sink, shared.index, shared.clock
    settings = hub.settings
    topics = settings.topics
    place_topics: dict[str, tuple[str, ...]] = {}
    provisioning = ProvisioningSink(
        sink,
        connection=hub.connection,
        place_topics=place_topics,
        partitions=settings.routing.place_topic_partitions,
        replication_factor=replicas_of(settings),
        config=place_topic_config(settings),
    )
    verify = functools.partial(verify_record, trusted=hub.trusted)
    events = VerifiedEvents(functools.partial(verified_event, verify=verify))
    fanout = FanOut(stage="route", events=events, observer=hub.metrics)
    # Each person's consent state written once for every kind, not by each kind's step.
    fanout.consent = ConsentWrites(_consent_book(hub), topics.consent, events, provisioning)
    # Each input on record once as taken by the pass, not once per kind.
    fanout.taken = functools.partial(hub.audit.taken, fanout.stage)
    for contract in _contracts(hub.routing):
        ctx = _stage_context(hub, index, clock, place_topics)
        ctx.read, ctx.writes_consent = events.event, False
        fanout.kinds.append(_kind_stage(hub, contract, ctx, provisioning, stage.group))
    retired = tuple(kind.runner.group for kind in fanout.kinds)
    hub.handovers.append(Handover(stage.group, stage.reads, retired))
    return fanout, None


def _stage_context(
    hub: Hub,
    index: DeliveryIndex,
    clock: Callable[[], dt.datetime],
    place_topics: dict[str, tuple[str, ...]],
) -> StageContext:
    """A kind's own view of the shared state: what its batch stages is its own until kept."""
    topics = hub.settings.topics
    return StageContext(
        policy=hub.routing.policy,
        index=StagedIndex(index),
        deliveries_topic=topics.deliveries,
        alerts_topic=topics.alerts,
        topic_prefix=topics.recipient_prefix,
        verify=functools.partial(verify_record, trusted=hub.trusted),
        sign=hub.signer.sign_record,
        clock=clock,
        consent=StagedConsent(_consent_book(hub), topics.consent),
        place_topics=place_topics,
    )


def _consent_book(hub: Hub) -> ConsentBook:
    book = hub.consent.view
    assert isinstance(book, ConsentBook)  # noqa: S101 - built so in build_hub
    return book


def _kind_stage(
    hub: Hub, contract: Contract, ctx: StageContext, sink: RecordSink, route_group: str
) -> KindStage:
    kind = contract.kind.value
    # The group this kind's stage read the events with before the one pass: the name its
    # parking, dead-letter entries and their replays still go by.
    group = f"{route_group}.{kind}"
    runner = IndexedRunner(
        index=ctx.index,
        consent=ctx.consent,
        catch_up=hub.catch_up_state,
        stage=f"route_{kind.replace('-', '_')}",
        group=group,
        parking=_parking(hub, group),
        screen=Screen(hub.trusted, untrusted_topic=False),
        observer=hub.metrics,
        step=recipient_step(contract, ctx),
        sink=sink,
        dlq_topic=hub.settings.topics.dlq,
    )
    hub.runners.append(runner)
    return KindStage(runner, hub.audit.hook(runner.stage, received=False, recipient=kind))


def _receipts(shared: _Shared, stage: Stage) -> tuple[Batches, OutcomeHook | None]:
    hub, clock = shared.hub, shared.clock
    topics = hub.settings.topics
    staged = StagedIndex(shared.index)
    receipt_topics = ReceiptTopics(hub.routing.policy, topics.recipient_prefix)
    ctx = ReceiptContext(
        index=staged,
        topics=receipt_topics,
        deliveries_topic=topics.deliveries,
        alerts_topic=topics.alerts,
        sign=hub.signer.sign_record,
        clock=clock,
    )
    runner = IndexedRunner(
        index=staged,
        catch_up=hub.follower.catch_up,
        stage="receipts",
        group=stage.group,
        # Each recipient's receipts in their own order: one's bad receipt holds up no other's.
        parking=_parking(hub, stage.group, per_topic=stage.pattern is not None),
        # The receipt topics are written by the recipients.
        screen=Screen(hub.trusted, untrusted_topic=True),
        observer=hub.metrics,
        step=receipt_step(ctx),
        sink=shared.sink,
        dlq_topic=topics.dlq,
    )
    hub.runners.append(runner)
    return runner, hub.audit.hook(runner.stage)


_HANDLERS: dict[StageKind, Callable[[_Shared, Stage], tuple[Batches, OutcomeHook | None]]] = {
    StageKind.INGEST: _ingest,
    StageKind.ROUTE: _route,
    StageKind.RECEIPTS: _receipts,
}


def broker_ready(settings: HubSettings) -> ReadinessProbe:
    """A probe that asks the broker for its topics, within `web.ready_timeout_s`."""

    async def ready() -> bool:
        try:
            # Asked anew each time: no credentials is "not ready" too, not a failed start.
            connection = settings.kafka_connection()
            await list_topics(connection, timeout=settings.web.ready_timeout_s)
        except HubError:
            return False
        return True

    return ready


def build_console(hub: Hub) -> Console:
    """The operations console of a running hub: its metrics, its signer, its audit chain."""
    return Console.build(
        hub.settings,
        signer=hub.signer,
        metrics=hub.metrics,
        audit=lambda facts: hub.audit.writer.append(facts),
        person_key=person_keys(hub.settings),
    )


def build_web_app(
    settings: HubSettings,
    *,
    sink: RecordSink,
    ready: ReadinessProbe | None = None,
    console: Console | None = None,
) -> Starlette:
    """The hub's ASGI app: health checks and the HTTP ingress, publishing through `sink`, and
    the operations console when one is given."""
    ingress = Ingress(settings, sink=sink, context=translation_context(settings))
    groups = [health_routes(ready or broker_ready(settings)), ingress_routes(ingress)]
    if console is None:
        return build_app(*groups)
    return build_app(*groups, console_routes(console), middleware=[console_middleware(console)])
