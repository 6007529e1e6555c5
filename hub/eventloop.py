"""The event loop a long-running hub process runs on (`HubSettings.event_loop`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

__all__ = ["run"]

T = TypeVar("T")
Kind = Literal["uvloop", "asyncio"]


def run(main: Coroutine[Any, Any, T], *, event_loop: Kind) -> T:
    """Run `main` to its end on a new loop of the kind named, as `asyncio.run` does."""
    with asyncio.Runner(loop_factory=_factory(event_loop)) as runner:
        return runner.run(main)


def _factory(
    event_loop: Literal["uvloop", "asyncio"],
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if event_loop == "asyncio":
        return None  # Python's own
    import uvloop

    return uvloop.new_event_loop
