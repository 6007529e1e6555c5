"""The deadline watcher: a notice whose receipt is overdue raises `receipt_overdue`.

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
from hub.recipients.alerts import alert_record, new_alert
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, entry_record
from schemas.alerts import AlertKind
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
        return len(overdue)

    async def _raise(self, entry: DeliveryEntry, now: dt.datetime) -> None:
        due = entry.receipt.due.isoformat() if entry.receipt.due else "?"
        alert = new_alert(
            entry, AlertKind.RECEIPT_OVERDUE, f"no receipt from {entry.recipient} by {due}", now
        )
        updated = entry.changed(alerts=(*entry.alerts, AlertKind.RECEIPT_OVERDUE.value))
        acks = [
            await self._sink.send(self._sign(alert_record(alert, self._alerts_topic))),
            await self._sink.send(entry_record(updated, self._deliveries_topic)),
        ]
        for ack in acks:
            await ack
        self._index.put(updated)
        log.warning(
            "alert.raised",
            kind=AlertKind.RECEIPT_OVERDUE.value,
            recipient=entry.recipient,
            message_id=entry.messageid,
        )
