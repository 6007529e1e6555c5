"""The running hub counts the dead-letter entries waiting for an operator, until resolved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.bootstrap import build_hub
from hub.operations.actions import discard, plan_discard
from hub.operations.entries import load_dead_letters
from hubdev.demo import KODA_SAMPLES
from tests.e2e.harness import HubEnv
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]


async def _until(holds: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        if holds():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_open_entries_are_counted_until_an_operator_resolves_them(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path, overrides={"metrics": {"dead_letters_every_s": 0.5}})
    await env.create_topics()
    settings = env.settings()
    await env.publish([(KODA_SAMPLES / "invalid" / "01-wrong-check-digit.xml").read_bytes()])
    labels = {"stage": "ingest", "reason": "invalid_identity_number"}
    async with build_hub(settings) as hub:

        def waiting() -> float | None:
            return hub.metrics.registry.get_sample_value("hub_dead_letters_open", labels)

        assert await _until(lambda: waiting() == 1.0)
        entries = await load_dead_letters(settings)
        plan = plan_discard(entries, entries, operator="tester", now=datetime.now(UTC))
        await discard(settings, plan, operator="tester", why="a test", signer=hub.signer)
        assert await _until(lambda: waiting() is None)
