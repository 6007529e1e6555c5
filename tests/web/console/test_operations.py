"""Triage from the console against the real broker: the same `hub.operations` functions as
`hub dlq`, as the logged-in operator, dry run first and confirmed as planned."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.bootstrap import build_hub, load_signer
from hub.kafka.reader import read_topic
from hub.operations.actions import plan_replay, replay
from hub.operations.entries import Selection, Status, load_dead_letters, select
from hub.settings import HubSettings
from hubdev.demo import KODA_SAMPLES
from schemas.audit import AuditStep, decode_record
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka
from tests.web.console.support import ConsoleClient, make_console_client

pytestmark = [pytest.mark.kafka]

INVALID = KODA_SAMPLES / "invalid" / "01-wrong-check-digit.xml"
_ENTRY_LINK = re.compile(r'href="/dlq/([0-9a-f-]{36})"')
_PLANNED = re.compile(r'<input type="hidden" name="entry" value="([0-9a-f-]{36})">')


@pytest.fixture
async def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    """A hub whose dead-letter topic holds the invalid sample's entry."""
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")
    await hub_env.create_topics()
    await hub_env.publish([INVALID.read_bytes()])
    settings = hub_env.settings()
    async with build_hub(settings):
        await collect(hub_env.connection, settings.topics.dlq, until=lambda rs: len(rs) == 1)
    return hub_env


@pytest.fixture
async def console(env: HubEnv) -> AsyncIterator[ConsoleClient]:
    made = make_console_client(env.settings())
    async with made.http:
        await made.log_in()
        yield made


async def test_an_operator_triages_and_replays_an_entry(console: ConsoleClient) -> None:
    settings = console.console.settings
    overview = await console.http.get("/")
    assert overview.status_code == 200
    assert "invalid_identity_number" in overview.text

    listing = await console.http.get("/dlq", params={"reason": "invalid_identity_number"})
    (entry_id,) = set(_ENTRY_LINK.findall(listing.text))
    empty = await console.http.get("/dlq", params={"reason": "unknown_unit"})
    assert entry_id not in empty.text
    assert (await console.http.get("/dlq", params={"since": "yesterday"})).status_code == 400

    shown = await console.http.get(f"/dlq/{entry_id[:8]}")
    assert "&lt;Fornavn&gt;***&lt;/Fornavn&gt;" in shown.text
    assert "Ola" not in shown.text, "names are masked unless revealed"
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", shown.text)

    no_reason = await console.post(f"/dlq/{entry_id}/reveal", {"why": "  "})
    assert no_reason.status_code == 400
    assert "Ola" not in no_reason.text
    revealed = await console.post(f"/dlq/{entry_id}/reveal", {"why": "ticket 4711"})
    assert "&lt;Fornavn&gt;Ola&lt;/Fornavn&gt;" in revealed.text
    assert revealed.headers["cache-control"] == "no-store"

    by_filter = await console.post("/dlq/replay", {"reason": "invalid_identity_number"})
    assert _PLANNED.findall(by_filter.text) == [entry_id]
    planned = await console.post("/dlq/replay", {"entry": entry_id})
    assert "Replay: dry run" in planned.text
    ids = _PLANNED.findall(planned.text)
    assert ids == [entry_id]
    assert (await load_dead_letters(settings))[0].status is Status.OPEN, "a dry run sends nothing"

    done = await console.post("/dlq/replay/confirm", {"entry": ids})
    assert done.status_code == 200
    assert "Replayed <strong>1</strong> input as ops" in done.text
    again = await console.post("/dlq/replay/confirm", {"entry": ids})
    assert again.status_code == 409, "the same confirm twice sends nothing twice"
    assert "already replayed by ops" in again.text

    (entry,) = [e for e in await load_dead_letters(settings) if e.id == entry_id]
    assert entry.resolution is not None
    assert (entry.status, entry.resolution.operator) == (Status.REPLAYED, "ops")
    trail = await _operator_steps(settings)
    assert trail[AuditStep.REVEALED] == ["ops"]
    assert trail[AuditStep.REPLAYED] == ["ops"]


async def test_discard_needs_a_reason_and_a_changed_plan_is_not_carried_out(
    console: ConsoleClient,
) -> None:
    settings = console.console.settings
    (entry,) = await load_dead_letters(settings)
    no_reason = await console.post("/dlq/discard", {"entry": entry.id, "why": ""})
    assert no_reason.status_code == 400
    assert "Say why" in no_reason.text

    planned = await console.post("/dlq/discard", {"entry": entry.id, "why": "sent again by KODA"})
    assert "Would mark <strong>1</strong> entry resolved" in planned.text
    # Meanwhile someone else replays it (with `hub dlq replay --execute`, say).
    everything = await load_dead_letters(settings)
    chosen = select(everything, Selection(ids=(entry.id,)))
    plan = plan_replay(everything, chosen, operator="kari", now=datetime.now(UTC))
    await replay(settings, plan, operator="kari", signer=load_signer(settings))

    confirm = {"entry": _PLANNED.findall(planned.text), "why": "sent again by KODA"}
    changed = await console.post("/dlq/discard/confirm", confirm)
    assert changed.status_code == 409
    assert "Nothing was discarded" in changed.text
    assert "already replayed by kari" in changed.text
    assert AuditStep.DISCARDED not in await _operator_steps(settings)


async def _operator_steps(settings: HubSettings) -> dict[AuditStep, list[str | None]]:
    steps: dict[AuditStep, list[str | None]] = {}
    async for stored in read_topic(settings.kafka_connection(), settings.topics.audit):
        record = decode_record(stored.value)
        if record.operator is not None:
            steps.setdefault(record.step, []).append(record.operator)
    return steps
