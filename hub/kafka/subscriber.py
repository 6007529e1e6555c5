"""The few lines of Kafka around a stage: consume a batch, run it, commit only when it is safe.

Ack policy, stated on purpose: MANUAL. FastStream's default would auto-commit, and a crash could
then lose what was in flight. Here the batch's offsets are committed (`ack`) only after the
runner returns, i.e. after the broker acknowledged every output and dead-letter entry of the
batch. If it could not, the batch is rewound (`nack`) after a pause and consumed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.kafka.groups import Partition
from hub.pipeline.records import InboundRecord
from hub.pipeline.runner import RecordOutcome, StageObserver
from hub.settings import KafkaSettings
from schemas.errors import TransientError

__all__ = ["AssignmentHook", "Batches", "OutcomeHook", "Rewinds", "subscribe_stage"]

log = structlog.get_logger(__name__)

# Seconds to wait before consuming a batch again whose outputs the broker did not acknowledge.
_REWIND_PAUSE_S = 2.0
# Rewound without a commit in between for this long: the stage is stuck, not briefly interrupted.
_STUCK_AFTER_S = 120.0


# Called with a batch's acknowledged outcomes before the commit (the audit trail hooks in here).
OutcomeHook = Callable[[list[RecordOutcome]], Awaitable[None]]


# Called with the group and its newly assigned partitions, before it fetches from them (the
# check for offsets that fell off retention hooks in here, `hub.kafka.retention`).
AssignmentHook = Callable[[str, list[Partition]], Awaitable[None]]


class Batches(Protocol):
    """What a subscriber runs: a `StageRunner`, or several stages over one input (`FanOut`)."""

    @property
    def stage(self) -> str: ...

    @property
    def observer(self) -> StageObserver | None:
        """Told of every rewound batch (`hub_batches_rewound_total`)."""
        ...

    async def run_batch(self, records: Sequence[InboundRecord]) -> Sequence[RecordOutcome]:
        """Return once every record the batch produced is acknowledged (else raise)."""
        ...


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped here
    def __init__(self, group_id: str, hook: AssignmentHook) -> None:
        self._group_id = group_id
        self._hook = hook

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions.revoked", group=self._group_id, partitions=len(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        partitions = sorted((tp.topic, tp.partition) for tp in assigned)
        log.info("partitions.assigned", group=self._group_id, partitions=len(partitions))
        await self._hook(self._group_id, partitions)


async def _no_decoding(_message: Any) -> None:
    # The step reads the raw bytes itself: a body FastStream cannot decode must reach the step
    # (and the dead-letter topic), never fail inside the client.
    return None


def subscribe_stage(
    broker: KafkaBroker,
    runner: Batches,
    *,
    topic: str,
    group_id: str,
    pattern: str | None = None,
    kafka: KafkaSettings,
    after: OutcomeHook | None = None,
    on_assigned: AssignmentHook | None = None,
    description: str = "",
) -> None:
    """Register `runner` as the handler of `topic` for consumer group `group_id`.

    With `pattern` (a regular expression), every topic matching it instead, including topics
    made later (found at the broker's metadata refresh); `topic` then only names the handler.
    """
    topics = () if pattern else (topic,)
    subscriber = broker.subscriber(
        *topics,
        pattern=pattern,
        group_id=group_id,
        batch=True,
        max_records=kafka.max_batch_records,
        batch_timeout_ms=kafka.batch_timeout_ms,
        auto_offset_reset="earliest",
        # A record as large as the topics allow must never get stuck in the fetcher.
        max_partition_fetch_bytes=kafka.max_record_bytes + 64 * 1024,
        ack_policy=AckPolicy.MANUAL,
        decoder=_no_decoding,
        listener=_Assignments(group_id, on_assigned) if on_assigned else None,
        title=f"{topic}:{runner.stage}",
        description=description or f"Stage {runner.stage} consumes {topic}.",
    )

    rewinds = Rewinds(runner.stage, runner.observer)

    @subscriber
    async def handle(message: KafkaMessage) -> None:
        records = [InboundRecord.from_consumer_record(r) for r in message.raw_message]
        try:
            outcomes = await runner.run_batch(records)
            if after is not None:
                await after(list(outcomes))
        except Exception as exc:  # noqa: BLE001 - said by Rewinds; the batch is taken again
            rewinds.rewound(exc, records=len(records))
            await asyncio.sleep(_REWIND_PAUSE_S)
            await message.nack()
            return
        rewinds.cleared()
        await message.ack()


class Rewinds:
    """What a stage's batch not committed, to be taken again, does besides: said with its cause,
    counted by stage and cause, and said as an error when the stage stays stuck (`_Stuck`).

    The subscriber keeps one per stage; the one pass over the canonical events (`FanOut`) keeps
    one per recipient kind, whose batch it takes again alone."""

    def __init__(self, stage: str, observer: StageObserver | None) -> None:
        self._stage = stage
        self._observer = observer
        self._stuck = _Stuck(stage)

    def rewound(self, exc: Exception, *, records: int) -> None:
        """Say and count `exc`, which kept a batch of `records` from being committed."""
        reason = _said(exc, self._stage, records)
        if self._observer is not None:
            self._observer.rewound(self._stage, reason)
        self._stuck.rewound(reason)

    def cleared(self) -> None:
        """A batch went through."""
        self._stuck.cleared()


def _said(exc: Exception, stage: str, records: int) -> str:
    """Log why a batch was rewound; its reason code."""
    if isinstance(exc, TransientError):
        # The broker away or a call timed out: expected in operation, and said by the
        # reason; a traceback would only bury the lines that need a person.
        reason = exc.reason.value
        log.warning("batch.rewound", stage=stage, records=records, reason=reason, detail=str(exc))
        return reason
    log.error("batch.rewound", stage=stage, records=records, exc_info=exc)
    return "unexpected"


class _Stuck:
    """A stage whose batches keep being rewound: said as an error a person sees, since the
    warnings alone read like any brief outage. Once at `_STUCK_AFTER_S`, then every as long."""

    def __init__(self, stage: str, *, after_s: float = _STUCK_AFTER_S) -> None:
        self._stage = stage
        self._after_s = after_s
        self._since: float | None = None
        self._rewinds = 0
        self._said_at = 0.0

    def rewound(self, reason: str) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since, self._rewinds, self._said_at = now, 0, now
        self._rewinds += 1
        if now - self._said_at >= self._after_s:
            self._said_at = now
            log.error(
                "batch.stuck",
                stage=self._stage,
                since_s=round(now - self._since),
                rewinds=self._rewinds,
                reason=reason,
                hint="nothing of this stage is committed until it clears; see the warnings",
            )

    def cleared(self) -> None:
        if self._since is not None and self._rewinds > 1:
            log.info("batch.unstuck", stage=self._stage, rewinds=self._rewinds)
        self._since = None
