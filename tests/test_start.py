"""The hub's start: its clients start side by side, and a failure is raised as itself."""

from __future__ import annotations

import asyncio

import pytest

from hub.bootstrap import _start_together
from schemas.errors import Reason, TransientError


class Client:
    def __init__(self, *, seconds: float = 0.0, fails: bool = False) -> None:
        self.seconds, self.fails = seconds, fails
        self.started = self.cancelled = False

    async def start(self) -> None:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.fails:
            raise TransientError("no broker answered", reason=Reason.BROKER_UNAVAILABLE)
        self.started = True


async def test_clients_start_side_by_side() -> None:
    clients = [Client(seconds=0.3) for _ in range(5)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    await _start_together(*clients)
    assert all(c.started for c in clients)
    assert loop.time() - began < 1.0, "five starts of 0.3 s took as long as one after another"


async def test_a_failed_start_is_raised_as_itself_and_the_others_are_cancelled() -> None:
    slow, failing = Client(seconds=30), Client(fails=True)
    with pytest.raises(TransientError) as raised:
        await _start_together(slow, failing)
    assert raised.value.reason is Reason.BROKER_UNAVAILABLE
    assert slow.cancelled
