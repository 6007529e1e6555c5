"""`hub demo` shows, for each sample, where it went and where it was refused, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bootstrap import build_hub, translation_context
from hub.sources import sources
from hub.tools.demo import run_demo
from tests.e2e.harness import HubEnv
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_each_sample_shows_every_recipient_decision(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.bootstrap_servers, tmp_path)
    await env.create_topics()
    settings = env.settings()
    async with build_hub(settings):
        journeys = await run_demo(
            settings, list(sources(settings).values()), translation_context(settings)
        )
    published = [j for j in journeys if j.canonical_id]
    assert published
    assert all(j.settled for j in journeys)
    for journey in published:
        lines = [line for stage in journey.routes.values() for line in stage]
        assert len(journey.routes) == 4, journey.label
        assert all(line.startswith(("✓", "✗")) for line in lines)
    escape = next(j for j in published if "escape" in j.label)
    refused = sorted(line for stage in escape.routes.values() for line in stage if "✗" in line)
    assert refused == [
        "✗ health: refused, no_rule",
        "✗ municipality: refused, no_rule",
        "✗ nav: refused, no_rule",
    ]
