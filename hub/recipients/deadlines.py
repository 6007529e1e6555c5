"""The deadline watcher: a notice whose receipt is overdue raises `receipt_overdue`; a person
still blocked behind a dead letter close to their planned release raises
`blocked_before_release`, resolved once they are no longer blocked.

It looks at the delivery index every few seconds. Each overdue notice gets one alert (the
entry remembers it) and a log line; a receipt that comes later resolves it. With several hub
processes each may raise the same alert: it has the same id, so the compacted alerts topic
keeps one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import structlog

from hub.pipeline.records import OutboundRecord
from hub.pipeline.sink import RecordSink
from hub.recipients.alerts import alert_record, new_alert, resolved
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, entry_record
from schemas.alerts import Alert, AlertKind
from schemas.errors import HubError

__all__ = ["DeadlineWatcher"]

log = structlog.get_logger(__name__)


class DeadlineWatcher:
    def __init__(
        self,
        *,
        index: DeliveryIndex,
        sink: RecordSink,
        deliveries_topic: str,
        alerts_topic: str,
        sign: Callable[[OutboundRecord], OutboundRecord],
        clock: Callable[[], dt.datetime],
        every_s: float,
        overdue: Callable[[int], None] | None = None,
        blocked: Callable[[], set[str]] = set,
        blocked_days: int = 7,
        on_alert: Callable[[Alert], None] = lambda _alert: None,
    ) -> None:
        self._index = index
        self._sink = sink
        self._deliveries_topic = deliveries_topic
        self._alerts_topic = alerts_topic
        self._sign = sign
        self._clock = clock
        self._every_s = every_s
        # Told, after every check, how many notices are overdue and still unanswered.
        self._overdue = overdue
        self._blocked = blocked
        self._blocked_days = blocked_days
        self._on_alert = on_alert

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self.check()
            except HubError as exc:
                log.warning("deadlines.check_failed", reason=exc.reason.value)

    async def check(self) -> int:
        """Raise an alert for every overdue receipt not alerted yet; returns how many."""
        now = self._clock()
        overdue = self._index.awaiting_receipt(now)
        for entry in overdue:
            await self._raise(entry, now)
        if self._overdue is not None:
            self._overdue(self._index.overdue_unanswered())
        return len(overdue) + await self._check_blocked(now)

    async def _check_blocked(self, now: dt.datetime) -> int:
        """Raise `blocked_before_release` once per blocked person near release; resolve it for
        those no longer blocked. Returns how many were raised."""
        kind = AlertKind.BLOCKED_BEFORE_RELEASE
        blocked = self._blocked()
        for entry in self._index.open_with_alert(kind.value):
            if entry.subject not in blocked:
                alert = resolved(
                    new_alert(entry, kind, "blocked", entry.deliveredat), "unblocked", now
                )
                left = tuple(a for a in entry.alerts if a != kind.value)
                await self._publish(alert, entry.changed(alerts=left))
        raised = 0
        for subject in sorted(blocked):
            near = self._near_release(subject, now.date())
            if near is not None:
                day = near.planneddate
                detail = f"a dead letter for this person is still open; release planned {day}"
                alert = new_alert(near, kind, detail, now)
                await self._publish(alert, near.changed(alerts=(*near.alerts, kind.value)))
                log.warning("alert.raised", kind=kind.value, message_id=near.messageid)
                raised += 1
        return raised

    def _near_release(self, subject: str, today: dt.date) -> DeliveryEntry | None:
        """The message of the person's release the alert hangs on, if it is near and unalerted."""
        releases = self._index.open_releases(subject)
        if any(AlertKind.BLOCKED_BEFORE_RELEASE.value in e.alerts for e in releases):
            return None
        near = [
            e
            for e in releases
            if e.planneddate and (e.planneddate - today).days <= self._blocked_days
        ]
        return min(near, key=lambda e: (e.planneddate, e.messageid)) if near else None

    async def _publish(self, alert: Alert, updated: DeliveryEntry) -> None:
        records = (
            self._sign(alert_record(alert, self._alerts_topic)),
            entry_record(updated, self._deliveries_topic),
        )
        for record in records:
            # Each acknowledgement awaited as soon as it is had: a stop that cancels the watcher
            # mid-way then leaves no acknowledgement unawaited behind it.
            ack = await self._sink.send(record)
            await ack
        self._index.put(updated)
        self._on_alert(alert)

    async def _raise(self, entry: DeliveryEntry, now: dt.datetime) -> None:
        due = entry.receipt.due.isoformat() if entry.receipt.due else "?"
        alert = new_alert(
            entry, AlertKind.RECEIPT_OVERDUE, f"no receipt from {entry.recipient} by {due}", now
        )
        updated = entry.changed(alerts=(*entry.alerts, AlertKind.RECEIPT_OVERDUE.value))
        await self._publish(alert, updated)
        log.warning(
            "alert.raised",
            kind=AlertKind.RECEIPT_OVERDUE.value,
            recipient=entry.recipient,
            message_id=entry.messageid,
        )
