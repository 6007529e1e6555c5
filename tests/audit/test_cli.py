"""`hub audit trail` and `hub audit disclosures` over a projection, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.audit.projection import Projection
from hub.audit.writer import MemoryChainLog
from hub.cli.app import app
from hub.cli.commands import register
from hub.privacy import PersonKeys
from hub.settings import HubSettings
from tests.audit.helpers import as_inbound, make_writer, new_signer
from tests.audit.test_projection import CANONICAL, PERSON, journey

register(app)


@pytest.fixture
async def projected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    settings = HubSettings()
    keys = PersonKeys(settings.person_key_secret.get_secret_value().encode())
    log = MemoryChainLog()
    facts = [f.model_copy(update={"subject": keys(PERSON)}) if f.subject else f for f in journey()]
    await make_writer(log, new_signer()).append(facts)
    Projection(settings.projection_path).apply(as_inbound(log.records))
    return settings


def hub(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_trail_prints_the_journey(projected: HubSettings) -> None:
    code, out = hub("audit", "trail", CANONICAL)
    assert code == 0, out
    steps = [line.split()[2] for line in out.splitlines()]
    assert steps == ["received", "published", "delivered", "refused", "receipt"]
    assert "rule=nav-release" in out


def test_trail_of_an_unknown_message_is_one_line(projected: HubSettings) -> None:
    code, out = hub("audit", "trail", "no-such-message")
    assert code == 2
    assert out.startswith("hub: error: no audit record names no-such-message")
    assert len(out.splitlines()) == 1


def test_disclosures_never_echo_the_number(projected: HubSettings) -> None:
    code, out = hub("audit", "disclosures", "--person", PERSON, "--since", "2000-01-01")
    assert code == 0, out
    assert "to nav" in out
    assert "Straffegjennomføringsloven § 4" in out
    assert PERSON not in out


def test_disclosures_refuse_what_is_not_an_identity_number(projected: HubSettings) -> None:
    code, out = hub("audit", "disclosures", "--person", "Kari Nordmann")
    assert code == 2
    assert "11-digit" in out
