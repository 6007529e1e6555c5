"""Every recipient kind from one pass over the canonical events.

One consumer group (`<prefix>.route`) reads the events topic. Each event is verified and decoded
once (`VerifiedEvents`), and every kind's stage runs on the batch. Each kind keeps what a
consumer group of its own gave it:

- its stage name (`route_<kind>`) in metrics, dead-letter entries and audit facts;
- its own parking under its former group name (`<prefix>.route.<kind>`), which is also the group
  its dead-letter entries name and a replay of them addresses: a replay or a release is taken by
  that kind only, and a failure of one kind for one person holds back that kind and person only.

The batch is committed once every kind's outputs and audit records are acknowledged. A kind
whose outputs could not be takes the batch again on its own (`FanOut`); after a crash every kind
takes the uncommitted batch again, and the deterministic ids make the repeats harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from hub.kafka.subscriber import Rewinds
from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.runner import RecordOutcome, StageObserver, StageRunner
from schemas.events import CanonicalEvent

__all__ = ["FanOut", "KindStage", "VerifiedEvents"]

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
    """The handler of the one consumer group: a batch through every kind's stage.

    A kind whose batch fails (an output or audit record the broker did not acknowledge) takes
    the batch again on its own after a pause, as its own consumer group did when it rewound;
    the kinds that went through are not run again, so a passing fault of one recipient's
    topic makes no other recipient decide the batch a second time. The batch is committed
    when every kind is through. Each retry is said, counted and watched under the kind's own
    stage name (`Rewinds`), as the rewinds of its own group were.
    """

    stage: str
    events: VerifiedEvents
    kinds: list[KindStage] = field(default_factory=list)
    retry_pause_s: float = 2.0
    # Told of the batches the subscriber rewinds (`hub.kafka.subscriber`) and of each kind's
    # batch taken again alone.
    observer: StageObserver | None = None
    _rewinds: dict[str, Rewinds] = field(default_factory=dict, init=False, repr=False)

    async def run_batch(self, records: Sequence[InboundRecord]) -> list[RecordOutcome]:
        """Return once every kind's outputs and audit records are acknowledged."""
        self.events.clear()
        try:
            ran = await asyncio.gather(*(self._through(kind, records) for kind in self.kinds))
        finally:
            self.events.clear()
        return [outcome for outcomes in ran for outcome in outcomes]

    async def _through(
        self, kind: KindStage, records: Sequence[InboundRecord]
    ) -> list[RecordOutcome]:
        stage = kind.runner.stage
        rewinds = self._rewinds.setdefault(stage, Rewinds(stage, self.observer))
        while True:
            try:
                outcomes = await kind.runner.run_batch(records)
                await kind.audit(outcomes)
            except Exception as exc:  # noqa: BLE001 - said by Rewinds; the kind takes it again
                rewinds.rewound(exc, records=len(records))
                await asyncio.sleep(self.retry_pause_s)
                continue
            rewinds.cleared()
            return outcomes
