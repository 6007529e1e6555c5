"""Dead-letter entries that people are parked behind are an alert before retention takes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from hub.operations.entries import DeadLetter, Resolution, Status
from hub.operations.expiry import ExpiryWatch, expiring
from hub.pipeline.records import Position
from hub.settings import HubSettings
from hub.topics import catalogue
from schemas.alerts import AlertState, OperationsAlert, OperationsAlertKind

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
BLOCKER = "0b1c2d3e-4f50-5617-8829-3a4b5c6d7e8f"
OTHER = "1b1c2d3e-4f50-5617-8829-3a4b5c6d7e8f"


def entry(entry_id: str, age: timedelta, parked_behind: str | None = None) -> DeadLetter:
    return DeadLetter(
        id=entry_id,
        position=Position("hub.dlq.v1", 2, 7),
        stage="ingest",
        group="justishub.ingest.koda",
        reason="parked" if parked_behind else "invalid_xml",
        reason_text="",
        error_class="InputRejected",
        attempts=1,
        time=NOW - age,
        origin=Position("in.koda.v1", 0, 3),
        key=b"KODA-PERSON-1",
        value=b"<x/>",
        headers=(),
        parked_behind=parked_behind,
        source="koda",
    )


def parked(n: int, behind: str) -> list[DeadLetter]:
    return [entry(f"{n:08d}-0000-5000-8000-000000000000", DAY, behind) for n in range(n)]


def test_only_open_blockers_near_their_end_are_found() -> None:
    old, young = entry(BLOCKER, 80 * DAY), entry(OTHER, 10 * DAY)
    entries = [old, young, *parked(2, BLOCKER)]
    found = expiring(
        entries, {BLOCKER: 1, OTHER: 1}, retention=90 * DAY, warn_before=14 * DAY, now=NOW
    )
    assert [(f.entry.id, f.parked, f.expires) for f in found] == [(BLOCKER, 2, NOW + 10 * DAY)]
    assert expiring(entries, {}, retention=90 * DAY, warn_before=14 * DAY, now=NOW) == []
    discarded = dataclasses.replace(old, resolution=Resolution(Status.DISCARDED, "kari", NOW))
    window = {"retention": 90 * DAY, "warn_before": 14 * DAY, "now": NOW}
    assert expiring([discarded], {BLOCKER: 1}, **window) == []


class Fakes:
    def __init__(self) -> None:
        self.entries: list[DeadLetter] = [entry(BLOCKER, 80 * DAY), *parked(1, BLOCKER)]
        self.blocking: dict[str, int] = {BLOCKER: 1}
        self.published: list[OperationsAlert] = []

    async def load(self) -> Sequence[DeadLetter]:
        return self.entries

    async def blockers(self) -> Mapping[str, int]:
        return self.blocking

    async def publish(self, alert: OperationsAlert) -> None:
        self.published.append(alert)


async def test_the_alert_is_raised_once_and_resolved_when_no_one_is_blocked() -> None:
    fakes = Fakes()
    watch = ExpiryWatch(
        load=fakes.load,
        blockers=fakes.blockers,
        publish=fakes.publish,
        retention=90 * DAY,
        warn_before=14 * DAY,
        every_s=1,
        clock=lambda: NOW,
    )
    (raised,) = await watch.check()
    assert (raised.kind, raised.state, raised.entryid) == (
        OperationsAlertKind.DEAD_LETTER_EXPIRING,
        AlertState.RAISED,
        BLOCKER,
    )
    assert (raised.parked, raised.due, raised.topic, raised.partition) == (
        1,
        NOW + 10 * DAY,
        "hub.dlq.v1",
        2,
    )
    assert await watch.check() == [], "raised once, not every round"
    fakes.blocking = {}  # replayed or discarded: the person goes on
    (resolved,) = await watch.check()
    assert (resolved.id, resolved.state) == (raised.id, AlertState.RESOLVED)
    assert fakes.published == [raised, resolved]


def test_the_dead_letter_retention_is_a_setting() -> None:
    settings = HubSettings.model_validate({"dlq": {"retention_days": 30, "warn_before_days": 7}})
    (dlq,) = [s for s in catalogue(settings) if s.name == settings.topics.dlq]
    assert dlq.config["retention.ms"] == str(30 * 24 * 60 * 60 * 1000)
