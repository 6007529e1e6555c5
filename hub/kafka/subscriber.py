"""The few lines of Kafka around a stage: consume a batch, run it, commit only when it is safe.

Ack policy, stated on purpose: MANUAL. FastStream's default would auto-commit, and a crash could
then lose what was in flight. Here the batch's offsets are committed (`ack`) only after the
runner returns, i.e. after the broker acknowledged every output and dead-letter entry of the
batch. If it could not, the batch is rewound (`nack`) after a pause and consumed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.kafka.groups import Partition
from hub.pipeline.records import InboundRecord
from hub.pipeline.runner import RecordOutcome, StageRunner
from hub.settings import KafkaSettings
from schemas.errors import TransientError

__all__ = ["AssignmentHook", "OutcomeHook", "subscribe_stage"]

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
    runner: StageRunner,
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

    stuck = _Stuck(runner.stage)

    @subscriber
    async def handle(message: KafkaMessage) -> None:
        records = [InboundRecord.from_consumer_record(r) for r in message.raw_message]
        try:
            outcomes = await runner.run_batch(records)
            if after is not None:
                await after(outcomes)
        except TransientError as exc:
            # The broker away or a call timed out: expected in operation, and said by the
            # reason; a traceback would only bury the lines that need a person.
            log.warning(
                "batch.rewound",
                stage=runner.stage,
                records=len(records),
                reason=exc.reason.value,
                detail=str(exc),
            )
            await _rewind(message, runner, stuck, exc.reason.value)
            return
        except Exception:
            log.exception("batch.rewound", stage=runner.stage, records=len(records))
            await _rewind(message, runner, stuck, "unexpected")
            return
        stuck.cleared()
        await message.ack()


async def _rewind(message: KafkaMessage, runner: StageRunner, stuck: _Stuck, reason: str) -> None:
    if runner.observer is not None:
        runner.observer.rewound(runner.stage, reason)
    stuck.rewound(reason)
    await asyncio.sleep(_REWIND_PAUSE_S)
    await message.nack()


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
