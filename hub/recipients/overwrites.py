"""Writing again the state of a key whose newest record an older one followed on its topic.

The routing state lives on compacted topics (`hub.deliveries.v1`, `hub.consent.v1`): each keeps
the last record of a key, and a process that starts reads the state from there. A partition's
old owner that stalls past its session (a long pause, a network partition) and then flushes the
sends it had in flight writes an older state after the new owner's newer one. Every running
process reads the topic and keeps the newest (a delivery entry's highest revision; every consent
grant ever read), so none goes back; but once compacted, the topic itself would hold the older
state, and a process started after that would act on it: on a delivery entry's older revision,
or on a consent without its withdrawal.

Each process's view notes such a key as it reads the older record (`take_overwritten`); this
puts the newest state the view holds on the topic again, so the key's last record is its newest
once more. Several processes may do so at once: they write the same newest state, which is
harmless, and one that knew only a state that is not the newest is followed in turn by one that
knows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

import structlog

from hub.pipeline.records import OutboundRecord
from hub.pipeline.sink import RecordSink
from schemas.errors import HubError

__all__ = ["NotesOverwrites", "OverwriteRepair"]

log = structlog.get_logger(__name__)

State = TypeVar("State")
State_co = TypeVar("State_co", covariant=True)


class NotesOverwrites(Protocol[State_co]):
    def take_overwritten(self) -> Sequence[State_co]:
        """The newest state held of every key noted since the last call."""
        ...

    def note_overwritten(self, keys: Iterable[str]) -> None:
        """Note these keys again (their writing failed)."""
        ...


class OverwriteRepair(Generic[State]):
    def __init__(
        self,
        *,
        name: str,
        view: NotesOverwrites[State],
        record_of: Callable[[State], OutboundRecord],
        key_of: Callable[[State], str],
        sink: RecordSink,
        every_s: float,
        on_rewritten: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.name = name
        self._view = view
        self._record_of = record_of
        self._key_of = key_of
        self._sink = sink
        self._every_s = every_s
        self._on_rewritten = on_rewritten

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self.repair()
            except HubError as exc:
                log.warning("state.rewrite_failed", state=self.name, reason=exc.reason.value)

    async def repair(self) -> int:
        """Write again each state noted as overwritten; returns how many were written."""
        states = self._view.take_overwritten()
        for number, state in enumerate(states):
            try:
                ack = await self._sink.send(self._record_of(state))
                await ack
            except BaseException:
                # Noted again, the unwritten ones are tried at the next round.
                self._view.note_overwritten(self._key_of(s) for s in states[number:])
                raise
        if states:
            log.warning(
                "state.rewritten",
                state=self.name,
                keys=len(states),
                why="an older state followed the newest on the topic (a stalled old owner)",
            )
            self._on_rewritten(len(states))
        return len(states)
