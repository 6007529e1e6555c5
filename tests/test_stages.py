"""The pipeline's table of stages (`hub.stages`): the hub consumes what it says, may read and
write what it says, and makes every fixed topic it names."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from hub.access import Operation, ResourceType, acl_bindings, load_places, permits, place_topics
from hub.bootstrap import build_hub, load_routing
from hub.kafka.connection import SecurityProtocol
from hub.settings import Environment, HubSettings, KafkaSettings, TopicSettings
from hub.stages import Stage, StageKind, stages
from hub.topics import catalogue, recipient_catalogue

_READ, _WRITE = Operation.READ, Operation.WRITE
_GROUP, _TOPIC = ResourceType.GROUP, ResourceType.TOPIC


@cache
def _settings(prefix: str = "") -> HubSettings:
    return HubSettings(env=Environment.TEST, topics=TopicSettings(recipient_prefix=prefix))


def _table(prefix: str = "") -> list[Stage]:
    settings = _settings(prefix)
    return stages(settings, load_routing(settings).policy)


def test_a_document_meets_each_source_s_ingest_then_the_route_then_the_receipts() -> None:
    table = _table()

    assert [stage.name for stage in table] == [
        "ingest.koda",
        "ingest.court",
        "ingest.police",
        "route",
        "receipts",
    ]
    assert [stage.group for stage in table] == [f"justishub.{s.name}" for s in table]
    assert {stage.kind for stage in table} == set(StageKind)
    events = _settings().topics.events
    assert all(events in s.writes for s in table if s.kind is StageKind.INGEST)
    (route,) = (s for s in table if s.kind is StageKind.ROUTE)
    assert route.reads == events


async def test_the_hub_consumes_exactly_the_stages_of_the_table(tmp_path: Path) -> None:
    # Never connected: a broker without security is enough to build it.
    settings = HubSettings(
        data_dir=tmp_path, kafka=KafkaSettings(security_protocol=SecurityProtocol.PLAINTEXT)
    )
    hub = build_hub(settings)
    try:
        # FastStream's Kafka subscribers, typed by its broker as the generic kind.
        subscribers: list[Any] = list(hub.broker.subscribers)
        # A pattern subscription names its pattern where others name their topic.
        subscribed = {(sub.group_id, *sub.topic_names) for sub in subscribers}
    finally:
        # Never started: only its clients' objects to close.
        await hub.producer.stop()
        await hub.audit.stop()

    table = stages(settings, load_routing(settings).policy)
    assert subscribed == {(s.group, s.pattern or s.reads) for s in table}


def _topics_named(name: str, places: list[str]) -> list[str]:
    """`name` itself, or each place's topic for a name with a `{place}` in it."""
    if "{" not in name:
        return [name]
    pattern = re.compile(re.sub(r"\\\{[a-z]+\\\}", "[^.]+", re.escape(name)))
    found = [topic for topic in places if pattern.fullmatch(topic)]
    assert found, f"no place has a topic {name}"
    return found


def test_the_hub_may_read_each_stage_s_input_and_write_each_of_its_outputs() -> None:
    for prefix in ("", "t1."):
        settings = _settings(prefix)
        policy = load_routing(settings).policy
        known = load_places(settings.routing.municipalities_path)
        bindings = acl_bindings(settings, policy, known)
        # Every recipient topic there is: the fixed ones and each place's own.
        places = place_topics(settings, policy, known)
        places += [spec.name for spec in recipient_catalogue(settings, policy)]
        topics = settings.topics
        for stage in stages(settings, policy):
            assert permits(bindings, "User:hub", _READ, _GROUP, stage.group), stage.name
            inputs = [t for t in places if re.fullmatch(stage.pattern, t)] if stage.pattern else []
            for topic in inputs or [stage.reads]:
                assert permits(bindings, "User:hub", _READ, _TOPIC, topic), (stage.name, topic)
            every = (*stage.writes, topics.dlq, topics.parking, topics.audit)
            for topic in (t for name in every for t in _topics_named(name, places)):
                assert permits(bindings, "User:hub", _WRITE, _TOPIC, topic), (stage.name, topic)


def test_every_fixed_topic_a_stage_reads_or_writes_is_made_at_start_up() -> None:
    settings = _settings()
    made = {spec.name for spec in catalogue(settings)}
    for stage in _table():
        named = [stage.reads, *stage.writes] if stage.pattern is None else list(stage.writes)
        fixed = [n for n in named if "{" not in n and not n.startswith(("out.", "receipts."))]
        assert set(fixed) <= made, stage.name
