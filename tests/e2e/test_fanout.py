"""One pass over the canonical events for every recipient kind, on the real broker: one group
reads them, and a kind that fails for a person holds back that kind and person only.

A municipality missing from the register dead-letters every release notice for it (a person's
first as `unknown_municipality`, the later ones parked behind it); the police register is
still told of every release of the same people, in order.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

import adapters.koda
from hub.bootstrap import build_hub, person_keys
from hub.kafka.groups import GroupWatch
from hub.kafka.handover import Handover
from hub.operations.entries import load_dead_letters
from hub.pipeline import headers as h
from hub.settings import HubSettings, KafkaSettings
from hubdev.demo.kodaxml import render
from schemas.ids import canonical_id
from tests.e2e.harness import HubEnv, collect
from tests.operations.test_replay_e2e import (
    STAVANGER,
    dead_letters,
    register_without,
    release_notices,
)
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

NOTICES = 60
KINDS = ("police-register", "nav", "municipality", "health", "correctional", "person")


async def test_one_group_reads_the_events_in_place_of_one_per_kind(tmp_path: Path) -> None:
    # Never connected: a broker without security is enough to build it.
    settings = HubSettings(data_dir=tmp_path, kafka=KafkaSettings(security_protocol="PLAINTEXT"))
    hub = build_hub(settings)
    try:
        groups = [sub.group_id for sub in hub.broker.subscribers if "route" in sub.group_id]
        route = [r for r in hub.runners if r.stage.startswith("route_")]
    finally:
        # Never started: only its clients' objects to close.
        await hub.producer.stop()
        await hub.audit.stop()
    prefix = settings.kafka.group_prefix
    assert groups == [f"{prefix}.route"]
    retired = tuple(f"{prefix}.route.{kind}" for kind in KINDS)
    assert hub.handovers == [Handover(f"{prefix}.route", settings.topics.events, retired)]
    # Each kind keeps the group name its parking, dead letters and their replays go by.
    assert [(r.stage, r.group) for r in route] == [
        (f"route_{kind.replace('-', '_')}", f"{prefix}.route.{kind}") for kind in KINDS
    ]


async def test_a_kind_that_fails_for_a_person_holds_back_that_kind_only(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    full_register = HubSettings().routing.municipalities_path
    broken = register_without(STAVANGER, full_register, tmp_path / "municipalities.csv")
    env = HubEnv(
        kafka.connection,
        tmp_path / "hub",
        overrides={"routing": {"municipalities_path": str(broken)}},
    )
    await env.create_topics()
    notices = release_notices(NOTICES)
    await env.publish([render(r) for r in notices])
    settings = env.settings()
    police = env.topic("out.police-register.v1")

    async with build_hub(settings):
        await dead_letters(settings, NOTICES)
        told = await collect(
            settings.kafka_connection(), police, until=lambda rs: len(rs) >= NOTICES
        )
        async with GroupWatch(settings.kafka_connection()) as watch:
            groups = {g.group_id for g in await watch.groups(f"{settings.kafka.group_prefix}.")}

    entries = await load_dead_letters(settings)
    assert {(e.stage, e.group) for e in entries} == {
        ("route_municipality", f"{settings.kafka.group_prefix}.route.municipality")
    }
    assert {e.reason for e in entries} == {"unknown_municipality", "parked"}
    keys = person_keys(settings)
    expected: dict[str, list[str]] = defaultdict(list)
    for record in notices:
        event_id = canonical_id(adapters.koda.SOURCE, record.hendelse_id)
        expected[keys(record.person.identitetsnummer)].append(event_id)
    arrived: dict[str, list[str]] = defaultdict(list)
    for record in told:
        arrived[(record.key or b"").decode()].append(record.header(h.CANONICAL_ID) or "")
    assert arrived == expected, "the police register hears of every release, in order"
    route_groups = {g for g in groups if ".route" in g}
    assert route_groups == {f"{settings.kafka.group_prefix}.route"}
