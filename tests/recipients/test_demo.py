"""`hub demo` shows, for each sample, where it went and where it was refused, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bootstrap import build_hub, translation_context
from hub.sources import sources
from hubdev.demo.run import run_demo
from schemas.recipients import RecipientKind
from tests.e2e.harness import HubEnv
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_each_sample_shows_every_recipient_decision(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path)
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
        assert len(journey.routes) == len(RecipientKind), journey.label
        assert all(line.startswith(("✓", "✗")) for line in lines)
    trondheim = next(j for j in published if j.label == "koda/11-release-completed.xml")
    (route,) = trondheim.routes["route_municipality"]
    assert route.startswith("✓ municipality.5001 → ")
    assert route.split()[3].endswith("out.municipality.5001.v1")
    escape = next(j for j in published if "escape" in j.label)
    refused = sorted(line for stage in escape.routes.values() for line in stage if "✗" in line)
    assert refused == [
        "✗ correctional: refused, no_rule",
        "✗ health: refused, no_rule",
        "✗ municipality: refused, no_rule",
        "✗ nav: refused, no_rule",
        "✗ person: refused, no_rule",
    ]
    custody = next(j for j in published if j.label == "police/01-custody-started.json")
    delivered = sorted(
        line.split()[1] for stage in custody.routes.values() for line in stage if "✓" in line
    )
    assert delivered == ["correctional", "nav", "police-register"], (
        "remand custody is prison for NAV too, and the correctional service places the person"
    )
    judgment = next(j for j in published if j.label.startswith("court/01-"))
    delivered = sorted(
        line.split()[1] for stage in judgment.routes.values() for line in stage if "✓" in line
    )
    assert delivered == ["correctional", "police-register"]
