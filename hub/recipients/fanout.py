"""Every recipient kind from one pass over the canonical events.

One consumer group (`<prefix>.route`) reads the events topic. Each event is verified and decoded
once (`VerifiedEvents`), and every kind's stage runs on the batch. Each kind keeps what a
consumer group of its own gave it:

- its stage name (`route_<kind>`) in metrics, dead-letter entries and audit facts;
- its own parking under its former group name (`<prefix>.route.<kind>`), which is also the group
  its dead-letter entries name and a replay of them addresses: a replay or a release is taken by
  that kind only, and a failure of one kind for one person holds back that kind and person only.

What an event says about consent is applied by every kind's step to its own view, in the order
of the batch, but each person's consent state is written once for the batch, not once per kind
(`ConsentWrites`).

The pass puts each input on record once (`received`, by the stage `route`), before any kind
decides; each kind records its decisions. The batch is committed once every kind's outputs and
audit records, and the consent states, are acknowledged. A kind whose outputs could not be
takes the batch again on its own (`FanOut`); after a crash every kind takes the uncommitted
batch again, and the deterministic ids make the repeats harmless.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hub.kafka.subscriber import Rewinds
from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.runner import RecordOutcome, StageObserver, StageRunner
from hub.pipeline.sink import RecordSink
from hub.routing.consent import ConsentBook, ConsentGrant, ConsentState, consent_record, grants_of
from schemas.errors import TransientError
from schemas.events import CanonicalEvent

__all__ = ["ConsentWrites", "FanOut", "KindStage", "VerifiedEvents"]

T = TypeVar("T")

# Called with one kind's acknowledged outcomes: puts them on the audit trail.
Audit = Callable[[list[RecordOutcome]], Awaitable[None]]


class VerifiedEvents:
    """Each event of a batch verified and decoded once, for every kind's step.

    A record that fails (a bad signature, a schema the hub no longer reads) is not kept: each
    kind that asks reads it again and fails on its own, and dead-letters it as its own stage
    did. Failures are rare, and one exception raised in six tasks would carry all their frames.
    """

    def __init__(self, read: Callable[[InboundRecord], CanonicalEvent]) -> None:
        self._read = read
        self._known: dict[Position, tuple[bytes, CanonicalEvent]] = {}

    def clear(self) -> None:
        self._known.clear()

    def event(self, record: InboundRecord) -> CanonicalEvent:
        known = self._known.get(record.position)
        # The same bytes, not merely the same position: a step timed or tested on its own may
        # be handed other records at one position.
        if known is not None and known[0] is record.value:
            return known[1]
        event = self._read(record)
        self._known[record.position] = (record.value, event)
        return event


@dataclass
class ConsentWrites:
    """Each person's consent state, written once for a batch on behalf of every kind.

    One record per person the batch's events say something of consent about: the state the
    book holds with every grant of the batch's events merged, keyed by the person. Merging is
    commutative and keeps each grant once (`ConsentState.merged`), so the state written again
    (the batch consumed again, or by another process that read more) is at worst a repeat.
    """

    book: ConsentBook
    topic: str
    events: VerifiedEvents
    sink: RecordSink

    def states(self, records: Sequence[InboundRecord]) -> list[ConsentState]:
        """The state of each person the events of `records` say something of consent about, in
        the order they first appear. Written even when the book holds it already: a batch
        consumed again whose kinds had kept their views may not have written it."""
        grants: dict[str, list[ConsentGrant]] = {}
        for record in records:
            event = self._event(record)
            if event is not None and (found := grants_of(event)):
                grants.setdefault(event.subject, []).extend(found)
        return [self.book.get(subject).merged(found) for subject, found in grants.items()]

    async def write(self, states: Sequence[ConsentState]) -> None:
        """Return once the broker acknowledged every one of `states` (else raise)."""
        sent = [await self.sink.send(consent_record(state, self.topic)) for state in states]
        for acknowledged in sent:
            await acknowledged

    def kept(self, states: Sequence[ConsentState]) -> None:
        """`states` acknowledged: in the book for the next batch, whichever kind ran."""
        for state in states:
            self.book.put(state)

    def _event(self, record: InboundRecord) -> CanonicalEvent | None:
        try:
            return self.events.event(record)
        except TransientError:
            raise
        # Says nothing of consent: each kind's step reads it again and dead-letters it on its
        # own, a bug (internal_error, with its traceback) as much as a bad signature.
        except Exception:  # noqa: BLE001 - not dropped: every kind's step meets it again
            return None


@dataclass(frozen=True)
class KindStage:
    """One recipient kind's stage: its runner, and how its outcomes go on the audit trail."""

    runner: StageRunner
    audit: Audit


@dataclass
class FanOut:
    """The handler of the one consumer group: a batch through every kind's stage.

    A kind whose batch fails (an output or audit record the broker did not acknowledge) takes
    the batch again on its own after a pause, as its own consumer group did when it rewound;
    the kinds that went through are not run again, so a passing fault of one recipient's
    topic makes no other recipient decide the batch a second time. The batch is committed
    when every kind is through. Each retry is said, counted and watched under the kind's own
    stage name (`Rewinds`), as the rewinds of its own group were.

    A kind still failing after `alone_for_s` fails the batch, which the subscriber rewinds:
    the consumer must ask the broker for records again within its poll interval (five minutes),
    or Kafka gives its partitions to another member. The inputs a kind went through stay
    done across that rewind (`_done`): consumed again, each kind takes only the rest.
    """

    stage: str
    events: VerifiedEvents
    kinds: list[KindStage] = field(default_factory=list)
    retry_pause_s: float = 2.0
    alone_for_s: float = 60.0
    # Told of the batches the subscriber rewinds (`hub.kafka.subscriber`) and of each kind's
    # batch taken again alone.
    observer: StageObserver | None = None
    # Writes each person's consent state once for the batch; None: each kind's step does.
    consent: ConsentWrites | None = None
    # Puts on record that the one pass took the batch's inputs (`received`, once per input),
    # before any kind decides; None: each kind's audit records its own.
    taken: Callable[[Sequence[InboundRecord]], Awaitable[None]] | None = None
    _rewinds: dict[str, Rewinds] = field(default_factory=dict, init=False, repr=False)
    # Per kind's stage, the inputs whose outputs and audit records were acknowledged since the
    # last batch went through: not decided again when a rewound batch is consumed again. One
    # batch is handled at a time, so a batch through leaves none of another pending.
    _done: dict[str, set[Position]] = field(default_factory=dict, init=False, repr=False)

    async def run_batch(self, records: Sequence[InboundRecord]) -> list[RecordOutcome]:
        """Return once every kind's outputs and audit records, and the consent states the
        batch changed, are acknowledged."""
        self.events.clear()
        try:
            await self._taken(records)
            states = self.consent.states(records) if self.consent is not None else []
            ran = await asyncio.gather(
                self._consent_written(states),
                *(self._through(kind, records) for kind in self.kinds),
                # Every one to its end before the batch fails: none left running unobserved
                # while the subscriber consumes the batch again.
                return_exceptions=True,
            )
        finally:
            self.events.clear()
        failed = [result for result in ran if isinstance(result, BaseException)]
        if failed:
            raise failed[0]
        self._done.clear()
        if self.consent is not None:
            self.consent.kept(states)
        return [outcome for outcomes in ran if isinstance(outcomes, list) for outcome in outcomes]

    async def _taken(self, records: Sequence[InboundRecord]) -> None:
        taken = self.taken
        if taken is not None:
            stage = f"{self.stage}_received"
            await self._until_through(stage, len(records), lambda: taken(records))

    async def _consent_written(self, states: Sequence[ConsentState]) -> list[RecordOutcome]:
        consent = self.consent
        if consent is not None and states:
            stage, count = f"{self.stage}_consent", len(states)
            await self._until_through(stage, count, lambda: consent.write(states))
        return []

    async def _through(
        self, kind: KindStage, records: Sequence[InboundRecord]
    ) -> list[RecordOutcome]:
        done = self._done.setdefault(kind.runner.stage, set())
        todo = [record for record in records if record.position not in done]
        if not todo:
            return []

        async def run() -> list[RecordOutcome]:
            outcomes = await kind.runner.run_batch(todo)
            await kind.audit(outcomes)
            done.update(record.position for record in todo)
            return outcomes

        return await self._until_through(kind.runner.stage, len(todo), run)

    async def _until_through(self, stage: str, records: int, run: Callable[[], Awaitable[T]]) -> T:
        """`run` again after a pause until it goes through, each failure said under `stage`;
        the last failure raised after `alone_for_s`."""
        rewinds = self._rewinds.setdefault(stage, Rewinds(stage, self.observer))
        give_up_at = time.monotonic() + self.alone_for_s
        while True:
            try:
                done = await run()
            except Exception as exc:
                rewinds.rewound(exc, records=records)
                if time.monotonic() >= give_up_at:
                    raise
                await asyncio.sleep(self.retry_pause_s)
                continue
            rewinds.cleared()
            return done
