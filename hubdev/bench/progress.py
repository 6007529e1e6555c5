"""When is a deployment done? Asked of Kafka, the same way for the hub and for the limit.

A deployment has *fully processed* its input when every consumer group of it (every group id
starting with its prefix) is stable, has members, covers the inbound topics between them, and
has committed up to the end of every partition of every topic it consumes. A stage commits a
batch only once the broker has acknowledged each of its outputs and audit records, so this
means: all outputs and audit records acknowledged. A stage added later is one group more and
is waited for without a change here.

The moment of completion is the end of the first of two readings, at least `_CONFIRM_S` apart,
that both find the deployment done with the same groups (a stage whose group had not yet
joined would otherwise be missed). Readings come every `_POLL_S`, so a completion time is
late by at most that much plus one reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hub.kafka.groups import GroupLag, GroupWatch
from hubdev.bench.processes import BenchFailed, Child

__all__ = ["Snapshot", "snapshot", "wait_processed", "wait_settled"]

_POLL_S = 0.25
_CONFIRM_S = 1.0
# Give up when nothing moved for this long: a stalled run must end with the logs, not hang.
_STALL_S = 180.0


@dataclass(frozen=True)
class Snapshot:
    at: float
    groups: tuple[GroupLag, ...]
    inbound: tuple[str, ...]

    @property
    def group_ids(self) -> tuple[str, ...]:
        return tuple(g.group_id for g in self.groups)

    @property
    def running(self) -> bool:
        """Every group stable with members, and the inbound topics consumed by one of them."""
        consumed = {topic for g in self.groups for topic in g.topics}
        stable = all(g.state == "Stable" and g.members > 0 for g in self.groups)
        return bool(self.groups) and stable and set(self.inbound) <= consumed

    @property
    def done(self) -> bool:
        return self.running and all(g.caught_up for g in self.groups)

    @property
    def inbound_done(self) -> int:
        """Inbound records the deployment is done with."""
        return sum(
            max((g.committed_on(topic) for g in self.groups), default=0) for topic in self.inbound
        )

    @property
    def lag(self) -> int:
        return sum(g.lag for g in self.groups)


async def snapshot(watch: GroupWatch, prefix: str, inbound: Sequence[str]) -> Snapshot:
    groups = await watch.groups(prefix)
    return Snapshot(time.monotonic(), tuple(groups), tuple(inbound))


async def wait_processed(
    watch: GroupWatch,
    prefix: str,
    inbound: Sequence[str],
    *,
    children: Sequence[Child],
    on_reading: Callable[[Snapshot], Awaitable[None]] | None = None,
) -> Snapshot:
    """The first reading at which the deployment was done (confirmed by a later one)."""
    first_done: Snapshot | None = None
    progress = (-1, time.monotonic())
    while True:
        current = await snapshot(watch, prefix, inbound)
        _check_alive(children)
        if on_reading is not None:
            await on_reading(current)
        if not current.done:
            first_done = None
        elif first_done is None or first_done.group_ids != current.group_ids:
            first_done = current
        elif current.at - first_done.at >= _CONFIRM_S:
            return first_done
        progress = _check_moving(progress, current, children)
        await asyncio.sleep(_POLL_S)


async def wait_settled(
    watch: GroupWatch, prefix: str, inbound: Sequence[str], *, children: Sequence[Child]
) -> Snapshot:
    """Wait until the deployment's groups have formed and stayed the same for `_CONFIRM_S`."""
    deadline = time.monotonic() + _STALL_S
    first: Snapshot | None = None
    while time.monotonic() < deadline:
        current = await snapshot(watch, prefix, inbound)
        _check_alive(children)
        if not current.running:
            first = None
        elif first is None or first.group_ids != current.group_ids:
            first = current
        elif current.at - first.at >= _CONFIRM_S:
            return current
        await asyncio.sleep(_POLL_S)
    raise BenchFailed(f"the consumer groups {prefix}* did not settle within {_STALL_S:g} s")


def _check_alive(children: Sequence[Child]) -> None:
    for child in children:
        if not child.running():
            raise child.failure("exited before it was done")


def _check_moving(
    last: tuple[int, float], current: Snapshot, children: Sequence[Child]
) -> tuple[int, float]:
    """(a measure of progress, when it last changed); fails after `_STALL_S` without change."""
    moved = sum(sum(g.committed.values()) for g in current.groups) - current.lag
    if moved != last[0]:
        return moved, current.at
    if current.at - last[1] > _STALL_S:
        culprit = children[0] if children else None
        detail = f"no progress for {_STALL_S:g} s (lag {current.lag})"
        raise culprit.failure(detail) if culprit else BenchFailed(detail)
    return last
