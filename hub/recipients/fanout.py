"""Every recipient kind from one pass over the canonical events.

One consumer group (`<prefix>.route`) reads the events topic. Each event is verified and decoded
once (`VerifiedEvents`), and every kind's stage runs on the batch. Each kind keeps what a
consumer group of its own gave it:

- its stage name (`route_<kind>`) in metrics, dead-letter entries and audit facts;
- its own parking under its former group name (`<prefix>.route.<kind>`), which is also the group
  its dead-letter entries name and a replay of them addresses: a replay or a release is taken by
  that kind only, and a failure of one kind for one person holds back that kind and person only.

The batch is committed once every kind's outputs, and then every kind's audit records, are
acknowledged. If one kind's outputs could not be, nothing of the batch is committed and every
kind takes it again; the deterministic ids make the repeats harmless, as after a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.runner import RecordOutcome, StageObserver, StageRunner
from schemas.events import CanonicalEvent

__all__ = ["FanOut", "KindStage", "VerifiedEvents"]

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


@dataclass(frozen=True)
class KindStage:
    """One recipient kind's stage: its runner, and how its outcomes go on the audit trail."""

    runner: StageRunner
    audit: Audit


@dataclass
class FanOut:
    """The handler of the one consumer group: a batch through every kind's stage."""

    stage: str
    events: VerifiedEvents
    kinds: list[KindStage] = field(default_factory=list)
    # Told of the batches the subscriber rewinds (`hub.kafka.subscriber`).
    observer: StageObserver | None = None

    async def run_batch(self, records: Sequence[InboundRecord]) -> list[RecordOutcome]:
        """Return once every kind's outputs and audit records are acknowledged."""
        self.events.clear()
        try:
            ran = await _all(kind.runner.run_batch(records) for kind in self.kinds)
        finally:
            self.events.clear()
        await _all(kind.audit(outcomes) for kind, outcomes in zip(self.kinds, ran, strict=True))
        return [outcome for outcomes in ran for outcome in outcomes]


async def _all(works: Iterable[Awaitable[T]]) -> list[T]:
    """Await every one to its end, then raise the first failure, if any: none is left running
    unobserved when another fails."""
    results = await asyncio.gather(*works, return_exceptions=True)
    done: list[T] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        done.append(result)
    return done
