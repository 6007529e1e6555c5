"""Records a stage never processed because retention deleted them first: never a silent skip.

A stage's consumer starts from `earliest` only when its group has no committed offset. When the
group has one, but the topic's retention has since deleted the records after it (the hub was
down for longer than the retention, or an operator deleted records), the client finds its
position out of range and quietly moves to the first record left: those in between are gone
unprocessed. So at every assignment the guard compares each assigned partition's committed
offset with the partition's first offset, and for every gap writes an error log line and
raises an alert (`records_expired`) through the callback it was given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import structlog

from hub.kafka.connection import KafkaConnection
from hub.kafka.groups import Expired, GroupWatch, Partition
from schemas.errors import HubError

__all__ = ["RetentionGuard"]

log = structlog.get_logger(__name__)

Raise = Callable[[Expired], Awaitable[None]]


class RetentionGuard:
    """Checks every assignment of the stages' groups; open it before the consumers start."""

    def __init__(self, connection: KafkaConnection, raise_alert: Raise) -> None:
        self._connection = connection
        self._raise = raise_alert
        # Made when opened: a hub that is built but never started leaves no client behind.
        self._watch: GroupWatch | None = None

    @property
    def watch(self) -> GroupWatch:
        """Its group reader, open as long as the guard is (shared with the lag metrics)."""
        if self._watch is None:
            raise RuntimeError("the retention guard is not open")
        return self._watch

    async def __aenter__(self) -> Self:
        watch = GroupWatch(self._connection)
        await watch.__aenter__()
        self._watch = watch
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            await watch.__aexit__(exc_type, exc, tb)

    async def assigned(self, group_id: str, partitions: list[Partition]) -> None:
        """Called when `group_id` got `partitions`, before it fetches from them."""
        if self._watch is None:
            # Not a silent skip either: the check could not be made, and that is said.
            log.error("offsets.retention_unchecked", group=group_id, error="guard not open")
            return
        try:
            gaps = await self._watch.expired(group_id, partitions)
        except HubError as exc:
            # The broker did not answer: the check could not be made, and that is said.
            log.warning("offsets.retention_unchecked", group=group_id, error=exc.detail)
            return
        for gap in gaps:
            log.error(
                "offsets.fell_off_retention",
                group=gap.group_id,
                topic=gap.topic,
                partition=gap.partition,
                committed=gap.committed,
                log_start=gap.log_start,
                skipped=gap.skipped,
            )
            try:
                await self._raise(gap)
            except HubError as exc:
                log.warning("offsets.alert_not_raised", group=gap.group_id, error=exc.detail)
