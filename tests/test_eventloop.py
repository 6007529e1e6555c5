"""`hub run` runs on the event loop the settings name: uvloop unless told otherwise."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from hub import eventloop
from hub.settings import HubSettings


async def _loop_kind() -> type[asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_the_hub_runs_on_uvloop_by_default_and_on_asyncio_when_told() -> None:
    assert HubSettings().event_loop == "uvloop"
    assert eventloop.run(_loop_kind(), event_loop="uvloop") is uvloop.Loop
    assert not issubclass(eventloop.run(_loop_kind(), event_loop="asyncio"), uvloop.Loop)


def test_an_event_loop_the_hub_does_not_know_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        HubSettings()
