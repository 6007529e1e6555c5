"""Dead-letter entries that people are parked behind must not quietly fall off retention.

An entry that blocks a person holds back every later input of that person in its stage
(`hub.pipeline.parking`). Retention deletes the entry after `HUB_DLQ__RETENTION_DAYS`; then it can
be neither replayed nor discarded, and the person stays blocked with nothing left to act on. So
the hub looks, every `HUB_DLQ__CHECK_EVERY_S`, for open entries that block someone and that
retention may delete within `HUB_DLQ__WARN_BEFORE_DAYS`, and raises a `dead_letter_expiring`
alert for each; the alert is resolved once the entry blocks no one (replayed or discarded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from hub.operations.entries import DeadLetter, Status
from hub.recipients.alerts import dead_letter_expiring
from schemas.alerts import AlertState, OperationsAlert
from schemas.errors import HubError

__all__ = ["Expiring", "ExpiryWatch", "expiring"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Expiring:
    entry: DeadLetter
    # Open entries held back behind it (the people's later inputs so far).
    parked: int
    # From when retention may delete it.
    expires: datetime


def expiring(
    entries: Sequence[DeadLetter],
    blockers: Mapping[str, int],
    *,
    retention: timedelta,
    warn_before: timedelta,
    now: datetime,
) -> list[Expiring]:
    """The open entries in `blockers` (entry id → people it blocks) that retention may delete
    within `warn_before` of `now`."""
    found = []
    for entry in entries:
        if entry.status is not Status.OPEN or entry.id not in blockers:
            continue
        expires = entry.time + retention
        if now >= expires - warn_before:
            parked = sum(
                1 for e in entries if e.parked_behind == entry.id and e.status is Status.OPEN
            )
            found.append(Expiring(entry, parked, expires))
    return found


Publish = Callable[[OperationsAlert], Awaitable[None]]


class ExpiryWatch:
    """Raises and resolves `dead_letter_expiring` alerts, on a schedule, while the hub runs."""

    def __init__(
        self,
        *,
        load: Callable[[], Awaitable[Sequence[DeadLetter]]],
        blockers: Callable[[], Awaitable[Mapping[str, int]]],
        publish: Publish,
        retention: timedelta,
        warn_before: timedelta,
        every_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._load = load
        self._blockers = blockers
        self._publish = publish
        self._retention = retention
        self._warn_before = warn_before
        self._every_s = every_s
        self._clock = clock
        # Alerts this process raised and has not resolved, by entry id.
        self._raised: dict[str, OperationsAlert] = {}

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except HubError as exc:
                # The broker did not answer; the next round tries again, and this is said.
                log.warning("dlq.expiry_unchecked", error=exc.detail)
            await asyncio.sleep(self._every_s)

    async def check(self) -> list[OperationsAlert]:
        """One round: raise what is newly near its end, resolve what blocks no one any more."""
        blockers = await self._blockers()
        entries = await self._load()
        now = self._clock()
        found = expiring(
            entries, blockers, retention=self._retention, warn_before=self._warn_before, now=now
        )
        changed = [
            await self._raise(item, now) for item in found if item.entry.id not in self._raised
        ]
        for entry_id in [e for e in self._raised if e not in blockers]:
            changed.append(await self._resolve(entry_id, now))
        return changed

    async def _raise(self, item: Expiring, now: datetime) -> OperationsAlert:
        entry = item.entry
        alert = dead_letter_expiring(
            entry.id, entry.position.topic, entry.position.partition, item.parked, item.expires, now
        )
        log.warning(
            "dlq.entry_expiring",
            entry=entry.id,
            stage=entry.stage,
            parked=item.parked,
            expires=item.expires.isoformat(),
        )
        await self._publish(alert)
        self._raised[entry.id] = alert
        return alert

    async def _resolve(self, entry_id: str, now: datetime) -> OperationsAlert:
        alert = self._raised.pop(entry_id).model_copy(
            update={"state": AlertState.RESOLVED, "resolvedat": now, "resolution": "unblocked"}
        )
        await self._publish(alert)
        return alert
