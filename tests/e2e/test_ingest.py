"""The ingest stage end to end on the real broker: nothing lost, bad input aside, order kept."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest

from hub.bootstrap import build_hub, person_keys
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, Position
from hubdev.demo.synthetic import SyntheticDocument, mixed_documents, valid_documents
from tests.e2e.harness import HubEnv, collect, ingest_only
from tests.samples.hostile import hostile_documents
from tests.support import RunningKafka
from tests.tripwires import file_tripwire, tcp_tripwire

pytestmark = [pytest.mark.kafka]


@pytest.fixture
async def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")
    await hub_env.create_topics()
    return hub_env


def distinct_events(records: Sequence[InboundRecord]) -> dict[str, InboundRecord]:
    """First occurrence of each canonical id: what a consumer that drops duplicates keeps."""
    first: dict[str, InboundRecord] = {}
    for record in records:
        first.setdefault(record.header(h.EVENT_ID) or "", record)
    return first


def dead_letters_by_origin(records: Sequence[InboundRecord]) -> dict[Position, InboundRecord]:
    return {
        Position(
            r.header(h.DLQ_TOPIC) or "",
            int(r.header(h.DLQ_PARTITION) or -1),
            int(r.header(h.DLQ_OFFSET) or -1),
        ): r
        for r in records
    }


@pytest.mark.slow
async def test_a_thousand_valid_and_fifty_invalid_documents(env: HubEnv) -> None:
    docs = mixed_documents(1000, 50, seed=7)
    positions = await env.publish([d.raw for d in docs])
    settings = env.settings()
    topics = settings.topics

    async with build_hub(settings):
        events = await collect(
            env.connection,
            topics.events,
            until=lambda rs: len(distinct_events(rs)) >= 1000,
        )
        dead = ingest_only(
            await collect(env.connection, topics.dlq, until=lambda rs: len(ingest_only(rs)) >= 50)
        )

    valid = [d for d in docs if d.expected_reason is None]
    firsts = distinct_events(events)
    assert len(firsts) == 1000
    assert {r.header(h.SOURCE_EVENT_ID) for r in firsts.values()} == {d.hendelse_id for d in valid}
    _assert_order_per_person(valid, events, settings)

    assert len(dead) == 50
    by_origin = dead_letters_by_origin(dead)
    for doc, position in zip(docs, positions, strict=True):
        if doc.expected_reason is not None:
            entry = by_origin[position]
            assert entry.header(h.DLQ_REASON) == doc.expected_reason.value
            assert entry.value == doc.raw, "the dead-letter entry carries the original bytes"
            assert entry.header(h.DLQ_STAGE) == "ingest"


def _assert_order_per_person(
    valid: Sequence[SyntheticDocument], events: Sequence[InboundRecord], settings: object
) -> None:
    keys = person_keys(settings)  # type: ignore[arg-type]
    published: dict[str, list[str]] = defaultdict(list)
    for doc in valid:
        published[keys(doc.identity_number)].append(doc.hendelse_id)
    arrived: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for record in events:  # one partition per person: offset order is arrival order
        event_id = record.header(h.EVENT_ID) or ""
        if event_id not in seen:
            seen.add(event_id)
            arrived[(record.key or b"").decode()].append(record.header(h.SOURCE_EVENT_ID) or "")
    assert arrived == published
    assert len(published) > 50, "the run must hold many people, most with several events"


async def test_hostile_documents_are_dead_lettered_and_the_next_document_comes_through(
    env: HubEnv, tmp_path: Path
) -> None:
    secret = b"TRIPWIRE-CONTENT-THAT-MUST-NOT-LEAK"
    with file_tripwire(tmp_path, secret) as wire, tcp_tripwire() as listener:
        hostile = hostile_documents(target_file=str(wire.path), url=listener.url)
        valid = valid_documents(len(hostile), seed=11)
        interleaved = [
            doc for pair in zip(hostile, valid, strict=True) for doc in (pair[0].raw, pair[1].raw)
        ]
        positions = await env.publish(interleaved)
        settings = env.settings()
        async with build_hub(settings):
            dead = ingest_only(
                await collect(
                    env.connection,
                    settings.topics.dlq,
                    until=lambda rs: len(ingest_only(rs)) >= len(hostile),
                )
            )
            events = await collect(
                env.connection,
                settings.topics.events,
                until=lambda rs: len(distinct_events(rs)) >= len(valid),
            )
        await asyncio.sleep(0.2)  # a late connection attempt would still be recorded
        assert not wire.opened.is_set(), "no file may be read"
        assert listener.connections == [], "no connection may be made"

    by_origin = dead_letters_by_origin(dead)
    for index, doc in enumerate(hostile):
        entry = by_origin[positions[2 * index]]
        assert entry.header(h.DLQ_REASON) == doc.reason.value, doc.name
    assert {r.header(h.SOURCE_EVENT_ID) for r in events} == {d.hendelse_id for d in valid}
    for record in [*dead, *events]:
        assert secret not in record.value
        assert all(secret not in value for _, value in record.headers)
