"""Runs one stage over a batch of inputs, and decides what every failure does.

A stage's step is a plain function: one inbound record in, its effects out (the records to
publish, and what the stage's audit puts on record of it: `Effects`), or a `HubError`. A step
with nothing of its own for the audit returns its records alone. The runner around it:

1. applies the step to each record in order; a `TransientError` is retried with exponential
   backoff up to a bound, then dead-lettered as `retries_exhausted`; a `PermanentError` is
   dead-lettered at once; any other exception is a bug in the step, dead-lettered as
   `internal_error` so that one record can never stop its partition;
2. puts every output and dead-letter entry of the batch in flight, then waits until the broker
   has acknowledged each one;
3. only then returns, so the caller commits the batch's offsets after everything it produced is
   safe. If an acknowledgement cannot be had, it raises `DeliveryFailed` and the caller must not
   commit: the batch is consumed again, and the deterministic ids make the repeats harmless.

No record stops its partition: an output the broker refuses for good (too large, a topic the hub
may not write) dead-letters its input as `output_rejected`; a dead-letter entry the broker
refuses is written cut short (see `cut_entry`), logged as an error and counted apart (the
`hub_dead_letters_cut` metric). Only a dead-letter topic that takes not even that stops the
stage, since nothing could then be kept of the input.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from hub.pipeline import headers as h
from hub.pipeline.control import Screen, Screened, Steering
from hub.pipeline.deadletter import Failure, cut_entry, dead_letter, dead_letter_id
from hub.pipeline.parking import Parked, Parking, Verdict
from hub.pipeline.records import Delivery, InboundRecord, OutboundRecord, Position
from hub.pipeline.sink import RecordSink
from hub.privacy import mask_token
from schemas.errors import HubError, PermanentError, Reason, TransientError

__all__ = [
    "MESSAGE_ID_HEADERS",
    "DeliveryFailed",
    "Effects",
    "RecordOutcome",
    "RetryPolicy",
    "StageObserver",
    "StageRunner",
    "Step",
    "bind_message_ids",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Effects:
    """What a step made of one input: the records to publish, and notes of what it decided.

    The notes are the stage's own (a recipient stage's deliveries and refusals, say): the
    runner carries them, untouched, to the input's outcome, where the stage's audit takes
    them. An input dead-lettered after all (an output the broker refused) keeps none.
    """

    outputs: Sequence[OutboundRecord]
    notes: Sequence[object] = ()


Step = Callable[[InboundRecord], Sequence[OutboundRecord] | Effects]
# How much of an input's value a cut dead-letter entry keeps: a first look for an operator,
# then nothing at all if even that is refused.
_KEEP_WHEN_CUT = (64 * 1024, 0)

# How long a batch's steps may hold the event loop before it gives the other tasks a turn.
_TURN_EVERY_S = 0.005

# Log context key → the header that carries it on records the hub writes.
MESSAGE_ID_HEADERS = {
    "message_id": h.EVENT_ID,
    "correlation_id": h.CORRELATION_ID,
    "source_event_id": h.SOURCE_EVENT_ID,
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StageObserver(Protocol):
    """Told what each batch did (metrics); the runner works the same without one."""

    def batch_done(self, stage: str, outcomes: Sequence[RecordOutcome], seconds: float) -> None:
        """`outcomes` are acknowledged; `seconds` is the batch's processing time."""

    def retried(self, stage: str) -> None:
        """A transient failure is about to be retried."""

    def rewound(self, stage: str, reason: str) -> None:
        """A batch was not committed and will be consumed again."""


class DeliveryFailed(TransientError):
    """The broker did not acknowledge an output: the batch must not be committed."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with a bound: a record is never retried forever."""

    max_attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one input: its acknowledged outputs, or its acknowledged dead-letter entry."""

    record: InboundRecord
    deliveries: tuple[Delivery, ...]
    failure: Failure | None = None
    # `hub-*` headers the input carried that the hub had not sealed: removed, never acted on.
    refused_headers: tuple[str, ...] = ()
    # What the step noted for the audit (`Effects.notes`); none when dead-lettered.
    notes: tuple[object, ...] = ()

    @property
    def dead_lettered(self) -> bool:
        return self.failure is not None


@dataclass(slots=True)
class _Planned:
    record: InboundRecord
    outputs: tuple[OutboundRecord, ...] = ()
    failure: Failure | None = None
    # Records of the stage's own state (parking), acknowledged with the batch, not outcomes.
    state: tuple[OutboundRecord, ...] = ()
    # A control record: it changes state only, and is no step of its own in the trail.
    control: bool = False
    refused_headers: tuple[str, ...] = ()
    notes: tuple[object, ...] = ()


class StageRunner:
    def __init__(
        self,
        *,
        stage: str,
        step: Step,
        sink: RecordSink,
        dlq_topic: str,
        group: str | None = None,
        parking: Parking | None = None,
        screen: Screen | None = None,
        retry: RetryPolicy | None = None,
        observer: StageObserver | None = None,
        clock: Callable[[], datetime] = _utcnow,
        thread_over_bytes: int | None = None,
    ) -> None:
        self.stage = stage
        self.observer = observer
        self.group = group or stage
        self.parking = parking
        self._screen = screen
        self._step = step
        self._sink = sink
        self._dlq_topic = dlq_topic
        self._retry = retry or RetryPolicy()
        self._clock = clock
        # Inputs larger than this are stepped in a worker thread (see `_stepped`); None: never.
        self._thread_over_bytes = thread_over_bytes

    @property
    def step(self) -> Step:
        """The stage's step, as wired: for tools that time it on its own (`hub bench`)."""
        return self._step

    async def run_batch(self, records: Sequence[InboundRecord]) -> list[RecordOutcome]:
        """Process `records` in order; return once every resulting record is acknowledged."""
        started = time.monotonic()
        if self.parking is not None:
            await self.parking.begin_batch()
        planned = []
        turn_at = started + _TURN_EVERY_S
        for record in records:
            item = await self._plan(record)
            if item is not None:
                planned.append(item)
            # A step is CPU work that awaits nothing: without a turn now and then, a batch of
            # large documents would hold the event loop for seconds, and the consumers'
            # heartbeats and the HTTP server with it. One record, or a few milliseconds of
            # small ones, is the most they wait for; a turn after every record cost more.
            if (now := time.monotonic()) >= turn_at:
                await asyncio.sleep(0)
                turn_at = now + _TURN_EVERY_S
        outcomes = await self._deliver(planned)
        failed = sum(1 for o in outcomes if o.dead_lettered)
        log.info("batch.done", stage=self.stage, records=len(records), dead_lettered=failed)
        if self.observer is not None:
            self.observer.batch_done(self.stage, outcomes, time.monotonic() - started)
        return outcomes

    async def _plan(self, record: InboundRecord) -> _Planned | None:
        screened = self._screen.screen(record) if self._screen else Screened(record)
        if screened.refused:
            log.warning(
                "record.headers_refused", input=str(record.position), headers=len(screened.refused)
            )
        planned = await self._plan_screened(screened.record, screened.steering)
        if planned is not None:
            planned.refused_headers = screened.refused
        return planned

    async def _plan_screened(
        self, record: InboundRecord, steering: Steering | None
    ) -> _Planned | None:
        with _message_context(self.stage, record):
            if self.parking is None:
                return await self._apply(record)
            entry_id = functools.partial(dead_letter_id, self.stage, record)
            decision = self.parking.decide(record, entry_id, steering)
            if decision.verdict is Verdict.IGNORE:
                return None
            if decision.verdict is Verdict.RELEASE:
                assert steering is not None  # noqa: S101 - only a sealed control record releases
                released = tuple(self.parking.released(record, steering))
                return _Planned(record, state=released, control=True)
            if decision.verdict is Verdict.PARK:
                assert decision.blocked_by is not None  # noqa: S101 - PARK always names its blocker
                return self._failed(record, Parked(decision.blocked_by), Parked, 0, None)
            planned = await self._apply(record)
            planned.state = tuple(self._state_after(planned))
            return planned

    def _state_after(self, planned: _Planned) -> list[OutboundRecord]:
        assert self.parking is not None  # noqa: S101 - only called with parking
        if planned.failure is None:
            return self.parking.succeeded(planned.record)
        entry_id = dead_letter_id(self.stage, planned.record)
        return self.parking.failed(planned.record, entry_id, planned.failure.last_failure)

    async def _apply(self, record: InboundRecord) -> _Planned:
        first_failure: datetime | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                planned = _planned(record, await self._stepped(record))
                log.debug("record.processed", outputs=len(planned.outputs))
                return planned  # noqa: TRY300 - the retry loop's exit, beside its handlers
            except TransientError as exc:
                first_failure = first_failure or self._clock()
                if attempt >= self._retry.max_attempts:
                    exhausted = _exhausted(exc, attempt)
                    return self._failed(record, exhausted, type(exc), attempt, first_failure)
                log.warning("step.retry", reason=exc.reason.value, attempt=attempt)
                if self.observer is not None:
                    self.observer.retried(self.stage)
                await asyncio.sleep(self._retry.delay(attempt))
            except HubError as exc:
                return self._failed(record, exc, type(exc), attempt, first_failure)
            # A bug must not stop the partition: it is dead-lettered as internal_error, and
            # logged in full.
            except Exception as exc:
                log.exception("step.bug", error_class=type(exc).__name__)
                bug = PermanentError(type(exc).__name__, reason=Reason.INTERNAL_ERROR)
                return self._failed(record, bug, type(exc), attempt, first_failure)

    async def _stepped(self, record: InboundRecord) -> Sequence[OutboundRecord] | Effects:
        """The step's effects. A large input can keep the CPU busy for a good part of a second
        (a megabyte of XML through the gate and the schema): it is stepped in a worker thread,
        so that the event loop, with the consumers' heartbeats and the HTTP server, runs on.
        Small ones are stepped here, where the thread hop would cost more than the step.

        Only for steps that share nothing with the event loop's other tasks (ingest: the
        adapters are functions of the document); what the step binds to the log context is
        carried back."""
        limit = self._thread_over_bytes
        if limit is None or len(record.value) <= limit:
            return self._step(record)
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, context.run, self._step, record)
        finally:
            # Also when it raised: the dead-letter lines name the message it got to.
            bound = context.run(structlog.contextvars.get_contextvars)
            structlog.contextvars.bind_contextvars(**bound)

    def _failed(
        self,
        record: InboundRecord,
        error: HubError,
        cause: type[BaseException],
        attempts: int,
        first: datetime | None,
    ) -> _Planned:
        now = self._clock()
        log.info("record.dead_lettered", reason=error.reason.value, detail=error.detail)
        return _Planned(record, failure=Failure(error, cause.__name__, attempts, first or now, now))

    async def _deliver(self, planned: Sequence[_Planned]) -> list[RecordOutcome]:
        results = await self._send_all([self._primary(item) + item.state for item in planned])
        outcomes = []
        for item, result in zip(planned, results, strict=True):
            if isinstance(result, PermanentError):
                result = await self._rescue(item, result)
            if not item.control:
                # State records (parking) are the stage's own business, not outcomes.
                primary = result[: len(self._primary(item))]
                notes = item.notes if item.failure is None else ()
                outcome = RecordOutcome(
                    item.record, tuple(primary), item.failure, item.refused_headers, notes
                )
                outcomes.append(outcome)
        return outcomes

    async def _rescue(self, item: _Planned, refused: PermanentError) -> list[Delivery]:
        """Keep what can be kept of an input one of whose records the broker refused for good."""
        if item.failure is None:
            # An output was refused: the input is dead-lettered instead, and with parking its
            # person's later inputs wait behind it from the next batch on.
            item.failure = self._failed(item.record, refused, type(refused), 1, None).failure
            item.state = tuple(self._state_after(item)) if self.parking is not None else ()
            (result,) = await self._send_all([(self._dead_letter(item), *item.state)])
            if not isinstance(result, PermanentError):
                return result
            refused = result
        entry = self._dead_letter(item)
        for keep in _KEEP_WHEN_CUT:
            (result,) = await self._send_all([(cut_entry(entry, refused, keep), *item.state)])
            if not isinstance(result, PermanentError):
                # Operators must hear of it: the input itself is kept only at its source now.
                cut = result[0].record
                log.error("deadletter.cut", entry=cut.header(h.DLQ_ID), cut=cut.header(h.DLQ_CUT))
                return result
            refused = result
        raise DeliveryFailed(f"the dead-letter topic refused even a cut entry: {refused.detail}")

    async def _send_all(
        self, groups: Sequence[Sequence[OutboundRecord]]
    ) -> list[list[Delivery] | PermanentError]:
        """Send every group's records and wait for every acknowledgement. A group one of whose
        records the broker refused for good comes back as that error (its later records are not
        sent); any other failure raises `DeliveryFailed`, and the batch must not be committed."""
        sends: list[tuple[int, OutboundRecord, Awaitable[Position]]] = []
        refused: dict[int, PermanentError] = {}
        try:
            for index, group in enumerate(groups):
                for out in group:
                    try:
                        sends.append((index, out, await self._sink.send(out)))
                    except PermanentError as exc:
                        refused[index] = exc
                        break
        except HubError as exc:
            await asyncio.gather(*(ack for _, _, ack in sends), return_exceptions=True)
            raise DeliveryFailed(f"could not hand a record to the broker: {exc.detail}") from exc
        # Wait for every acknowledgement, even after a failure, so none is left unobserved.
        results = await asyncio.gather(*(ack for _, _, ack in sends), return_exceptions=True)
        delivered: list[list[Delivery]] = [[] for _ in groups]
        for (index, out, _), result in zip(sends, results, strict=True):
            if isinstance(result, PermanentError):
                refused.setdefault(index, result)
            elif isinstance(result, BaseException):
                raise DeliveryFailed(f"no acknowledgement from the broker: {result}") from result
            else:
                delivered[index].append(Delivery(out, result))
        return [refused.get(i, delivered[i]) for i in range(len(groups))]

    def _primary(self, item: _Planned) -> tuple[OutboundRecord, ...]:
        return item.outputs if item.failure is None else (self._dead_letter(item),)

    def _dead_letter(self, item: _Planned) -> OutboundRecord:
        assert item.failure is not None  # noqa: S101 - only failed items are dead-lettered
        return dead_letter(
            item.record, item.failure, stage=self.stage, group=self.group, topic=self._dlq_topic
        )


def _planned(record: InboundRecord, effects: Sequence[OutboundRecord] | Effects) -> _Planned:
    if isinstance(effects, Effects):
        return _Planned(record, tuple(effects.outputs), notes=tuple(effects.notes))
    return _Planned(record, tuple(effects))


@contextmanager
def _message_context(stage: str, record: InboundRecord) -> Iterator[None]:
    """Bind what identifies the message to every log line while it is handled.

    A step that learns the message's ids itself (ingest, after translating) binds them with
    `bind_message_ids`; they are unbound here when the record is done.
    """
    known = {
        key: _shown_id(value)
        for key, name in MESSAGE_ID_HEADERS.items()
        if (value := record.header(name))
    }
    # Bound and reset by token: `bound_contextvars` reads every context variable first, and
    # this runs for every record of every stage.
    tokens = structlog.contextvars.bind_contextvars(
        stage=stage, input=str(record.position), **known
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
        structlog.contextvars.unbind_contextvars(*MESSAGE_ID_HEADERS)


# A document's ids meet every stage it passes (the ingest, the one pass, every kind).
_shown_id = functools.lru_cache(maxsize=4096)(mask_token)


def bind_message_ids(*, message_id: str, correlation_id: str, source_event_id: str) -> None:
    structlog.contextvars.bind_contextvars(
        message_id=message_id,
        correlation_id=mask_token(correlation_id),
        source_event_id=mask_token(source_event_id),
    )


def _exhausted(last: TransientError, attempts: int) -> PermanentError:
    detail = f"gave up after {attempts} attempts; last error {last.reason.value}: {last.detail}"
    return PermanentError(detail, reason=Reason.RETRIES_EXHAUSTED)
