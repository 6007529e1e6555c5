"""`hub dlq` as an operator uses it, against the real broker."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import commands
from hub.cli.app import app
from hub.kafka.reader import read_topic
from hubdev.demo import KODA_SAMPLES
from schemas.audit import AuditStep, decode_record
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]

commands.register(app)
INVALID = KODA_SAMPLES / "invalid" / "01-wrong-check-digit.xml"


@pytest.fixture
def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    """A hub whose dead-letter topic holds the invalid sample's entry."""
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")

    async def dead_letter_one() -> None:
        await hub_env.create_topics()
        await hub_env.publish([INVALID.read_bytes()])
        settings = hub_env.settings()
        async with build_hub(settings):
            await collect(hub_env.connection, settings.topics.dlq, until=lambda rs: len(rs) == 1)

    asyncio.run(dead_letter_one())
    return hub_env


@pytest.fixture
def bare_env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    """A hub's topics, nothing on them."""
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")
    asyncio.run(hub_env.create_topics())
    return hub_env


def hub(env: HubEnv, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env.environ())
    return result.exit_code, result.output


def test_an_operator_triages_an_entry(env: HubEnv) -> None:
    code, listing = hub(env, "dlq", "list")
    assert code == 0
    (short,) = re.findall(r"^([0-9a-f]{8}) ", listing, re.MULTILINE)
    assert "invalid_identity_number" in listing

    code, shown = hub(env, "dlq", "show", short)
    assert code == 0
    assert "<Fornavn>***</Fornavn>" in shown
    assert "Ola" not in shown, "names are masked unless revealed"
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", shown)

    code, out = hub(env, "dlq", "show", short, "--reveal")
    assert code == 2
    assert "--why" in out

    code, out = hub(
        env, "dlq", "show", short, "--reveal", "--why", "ticket 4711", "--operator", "kari"
    )
    assert code == 0
    assert "<Fornavn>Ola</Fornavn>" in out

    code, planned = hub(env, "dlq", "replay", short)
    assert code == 0
    assert "would replay" in planned

    code, out = hub(env, "dlq", "replay", short, "--execute")
    assert code == 2, "no operator, no replay"
    assert "needs an operator" in out

    code, out = hub(
        env,
        "dlq",
        "discard",
        short,
        "--why",
        "sent again by KODA",
        "--execute",
        "--operator",
        "kari",
    )
    assert code == 0
    assert "discarded 1" in out
    assert short not in hub(env, "dlq", "list")[1]
    assert "discarded" in hub(env, "dlq", "list", "--all")[1]

    steps = asyncio.run(_trail_steps(env))
    assert {AuditStep.REVEALED, AuditStep.DISCARDED, AuditStep.ACTION_FAILED} <= set(steps)
    assert steps[AuditStep.ACTION_FAILED] == [None], "the refusal names no operator: there was none"
    assert steps[AuditStep.REVEALED] == ["kari"]


def test_unknown_ids_and_empty_selections_are_one_line_errors(bare_env: HubEnv) -> None:
    code, out = hub(bare_env, "dlq", "show", "deadbeef")
    assert code == 2
    assert out.strip().count("\n") == 0
    code, out = hub(bare_env, "dlq", "replay")
    assert code == 2
    assert "say which entries" in out


async def _trail_steps(env: HubEnv) -> dict[AuditStep, list[str | None]]:
    steps: dict[AuditStep, list[str | None]] = {}
    settings = env.settings()
    async for stored in read_topic(settings.kafka_connection(), settings.topics.audit):
        record = decode_record(stored.value)
        steps.setdefault(record.step, []).append(record.operator)
    return steps
