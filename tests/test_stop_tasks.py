"""The hub's stop and its background tasks: one deaf to cancellation is named, not waited on."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from hub.bootstrap import _settled


async def _watch_forever() -> None:
    await asyncio.sleep(3600)


async def _deaf_to_cancellation() -> None:
    try:
        await _watch_forever()
    except asyncio.CancelledError:
        # Like a client's close that waits for a broker that does not answer.
        await asyncio.sleep(3600)


async def test_a_task_that_outlasts_the_bound_is_named_with_where_it_waits() -> None:
    deaf = asyncio.create_task(_deaf_to_cancellation(), name="dead-letter-expiry")
    polite = asyncio.create_task(_watch_forever(), name="consumer-lag")
    await asyncio.sleep(0)
    for task in (deaf, polite):
        task.cancel()
    started = time.monotonic()
    with capture_logs() as logs:
        lingering = await _settled([deaf, polite], 0.2)
    assert time.monotonic() - started < 2
    assert lingering == ["dead-letter-expiry"]
    [warning] = [e for e in logs if e["event"] == "hub.tasks_still_running"]
    assert list(warning["tasks"]) == ["dead-letter-expiry"]
    assert "_deaf_to_cancellation" in warning["tasks"]["dead-letter-expiry"]
    assert polite.cancelled()
    deaf.cancel()


async def test_tasks_that_end_when_cancelled_say_nothing() -> None:
    task = asyncio.create_task(_watch_forever(), name="consumer-lag")
    await asyncio.sleep(0)
    task.cancel()
    with capture_logs() as logs:
        assert await _settled([task], 1.0) == []
    assert logs == []
