"""A console on an in-memory ingress sink and audit list; its settings point at the session's
broker, which only the pages that read dead letters or alerts reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.settings import ConsoleSettings, Environment, HubSettings, KafkaSettings, MetricsSettings
from tests.support import RunningKafka
from tests.web.console.support import ConsoleClient, make_console_client

METRICS_TOKEN = "scraper-token-of-at-least-24-chars"  # noqa: S105 - a test value

# Nothing listens at its address: no password is ever checked.
_UNUSED_PASSWORD = "unused"  # noqa: S105 - see above


@pytest.fixture
def console_settings(tmp_path: Path) -> HubSettings:
    return HubSettings(
        env=Environment.TEST,
        data_dir=tmp_path / "hub",
        console=ConsoleSettings(idle_timeout_s=600, absolute_timeout_s=3600, login_burst=5),
        metrics=MetricsSettings(token=METRICS_TOKEN),
        # Nothing listens here: pages that would need the broker are not asked for.
        kafka=KafkaSettings(
            bootstrap_servers="127.0.0.1:9", password=_UNUSED_PASSWORD, request_timeout_ms=1000
        ),
    )


@pytest.fixture
async def console(console_settings: HubSettings) -> AsyncIterator[ConsoleClient]:
    made = make_console_client(console_settings)
    async with made.http:
        yield made


@pytest.fixture
def kafka_settings(kafka: RunningKafka, console_settings: HubSettings) -> HubSettings:
    kafka_group = kafka.kafka_settings()
    return console_settings.model_copy(update={"kafka": kafka_group})
