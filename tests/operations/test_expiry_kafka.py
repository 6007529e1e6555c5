"""On the real broker: a dead-letter entry that a person is parked behind raises an alert when
it nears the dead-letter topic's retention, and the alert is resolved once it is discarded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.bootstrap import build_hub, load_signer
from hub.operations.actions import discard, plan_discard
from hub.operations.entries import Selection, load_dead_letters, select
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord
from hub.recipients.alerts import fold_alerts
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from schemas.alerts import AlertState, OperationsAlert
from tests.e2e.harness import HubEnv, collect
from tests.operations.test_forged_control_kafka import send
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]

PERSON = b"KODA-PERSON-000077"


def expiring(records: list[InboundRecord]) -> list[OperationsAlert]:
    return [a for a in fold_alerts([r.value for r in records]) if isinstance(a, OperationsAlert)]


async def test_a_blocking_entry_near_its_retention_is_an_alert_until_resolved(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(
        kafka.connection,
        tmp_path / "hub",
        overrides={"dlq": {"retention_days": 2, "warn_before_days": 1.5, "check_every_s": 0.5}},
    )
    await env.create_topics()
    settings = env.settings()
    topic = settings.topics.in_koda
    (document,) = (render(r) for r in valid_records(1, seed=9))

    def a_day_later() -> datetime:
        return datetime.now(UTC) + timedelta(days=1)

    async with build_hub(settings, clock=a_day_later):
        await send(
            settings,
            [OutboundRecord(topic, PERSON, b"<not-xml"), OutboundRecord(topic, PERSON, document)],
        )
        records = await collect(
            settings.kafka_connection(),
            settings.topics.alerts,
            until=lambda rs: bool(expiring(rs)),
        )
        (alert,) = expiring(records)
        entries = await load_dead_letters(settings)
        blocker = next(e for e in entries if e.reason == "invalid_xml")
        assert (alert.entryid, alert.parked, alert.state) == (blocker.id, 1, AlertState.RAISED)
        assert alert.due is not None
        assert alert.due - blocker.time == timedelta(days=2)

        chosen = select(entries, Selection(ids=(blocker.id,)))
        plan = plan_discard(entries, chosen, operator="kari", now=datetime.now(UTC))
        await discard(settings, plan, operator="kari", why="resent", signer=load_signer(settings))
        records = await collect(
            settings.kafka_connection(),
            settings.topics.alerts,
            until=lambda rs: [a.state for a in expiring(rs)] == [AlertState.RESOLVED],
        )
    (resolved,) = expiring(records)
    assert (resolved.id, resolved.state, resolved.resolution) == (
        alert.id,
        AlertState.RESOLVED,
        "unblocked",
    )
    events = await collect(
        settings.kafka_connection(), settings.topics.events, until=lambda rs: len(rs) >= 1
    )
    assert [e.header(h.SOURCE_EVENT_ID) for e in events] == ["SYN9-0000001"]
