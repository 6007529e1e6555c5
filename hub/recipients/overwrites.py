"""Writing again a delivery entry whose newest revision an older one followed on the topic.

`hub.deliveries.v1` is compacted: it keeps the last record of each message, and a process that
starts reads the entries from there. A partition's old owner that stalls past its session (a
long pause, a network partition) and then flushes the sends it had in flight writes an older
revision after the new owner's newer one. Every hub process reads the topic and takes the
highest revision, so no running process goes back; but once compacted, the topic itself would
hold the older one, and a process started after that would act on it.

Each process's delivery index notes such an entry as it reads the older record
(`DeliveryIndex.take_overwritten`); this puts the newest revision it holds on the topic again,
so that the last record of the message is its newest once more. Several processes may do so at
once: they write the same newest revision, which is harmless, and one that knew only a revision
that is not the newest is followed in turn by one that knows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from hub.pipeline.sink import RecordSink
from hub.routing.deliveries import DeliveryIndex, entry_record
from schemas.errors import HubError

__all__ = ["OverwriteRepair"]

log = structlog.get_logger(__name__)


class OverwriteRepair:
    def __init__(
        self,
        *,
        index: DeliveryIndex,
        sink: RecordSink,
        deliveries_topic: str,
        every_s: float,
        on_rewritten: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._index = index
        self._sink = sink
        self._topic = deliveries_topic
        self._every_s = every_s
        self._on_rewritten = on_rewritten

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self.repair()
            except HubError as exc:
                log.warning("deliveries.rewrite_failed", reason=exc.reason.value)

    async def repair(self) -> int:
        """Write again each entry noted as overwritten; returns how many were written."""
        entries = self._index.take_overwritten()
        for number, entry in enumerate(entries):
            try:
                ack = await self._sink.send(entry_record(entry, self._topic))
                await ack
            except BaseException:
                # Noted again, the unwritten ones are tried at the next round.
                self._index.note_overwritten(e.messageid for e in entries[number:])
                raise
        if entries:
            log.warning(
                "deliveries.rewritten",
                entries=len(entries),
                why="an older revision followed the newest on the topic (a stalled old owner)",
            )
            self._on_rewritten(len(entries))
        return len(entries)
