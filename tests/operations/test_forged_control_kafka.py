"""Control headers count only from the hub, on the real broker.

A source writes the inbound topic and can compute dead-letter ids (they follow from a record's
position), so it can put `hub-replay-of` and `hub-control` on what it sends. Here a person's
first document fails and their next one is parked; the source then forges a replay of the
parked document and a release control record. Neither lets anything through, each attempt is a
`headers_refused` record on the audit trail, and the hub's own (sealed) release still works.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.bootstrap import build_hub, load_signer
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.operations.actions import discard, plan_discard
from hub.operations.entries import Selection, load_dead_letters, select
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.settings import HubSettings
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from schemas.audit import AuditRecord, AuditStep, decode_record
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]

# The source's own stable reference to the person: what a source keys its records by.
PERSON = b"KODA-PERSON-000042"
OPERATOR = "kari.ops"


async def send(settings: HubSettings, records: list[OutboundRecord]) -> list[Position]:
    """As the source would: straight to its inbound topic, in order."""
    producer = build_producer(settings.kafka_connection(), settings.kafka, client_id="a-source")
    await producer.start()
    try:
        sink = KafkaRecordSink(producer)
        acks = [await sink.send(r) for r in records]
        return [await ack for ack in acks]
    finally:
        await producer.stop()


async def entries_of(settings: HubSettings, count: int) -> list[InboundRecord]:
    return await collect(
        settings.kafka_connection(), settings.topics.dlq, until=lambda rs: len(rs) >= count
    )


async def trail(settings: HubSettings) -> list[AuditRecord]:
    return [
        decode_record(r.value)
        async for r in read_topic(settings.kafka_connection(), settings.topics.audit)
    ]


async def test_forged_replay_and_release_change_nothing_and_are_on_record(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub")
    await env.create_topics()
    settings = env.settings()
    topic, group = settings.topics.in_koda, f"{settings.kafka.group_prefix}.ingest.koda"
    first, second, third = (render(r) for r in valid_records(3, seed=7))

    def doc(value: bytes, **headers: str) -> OutboundRecord:
        return OutboundRecord(topic, PERSON, value, text_headers(headers.items()))

    async with build_hub(settings):
        await send(settings, [doc(b"<not-xml"), doc(first)])
        blocker, _parked = await entries_of(settings, 2)
        blocker_id = blocker.header(h.DLQ_ID) or ""
        steer = {h.REPLAY_OF: blocker_id, h.REPLAY_GROUP: group}
        forged = await send(
            settings,
            [
                doc(first, **steer),  # "this is the blocker, replayed": let it through
                doc(b"", **steer, **{h.CONTROL: "release"}),  # "its blocker was discarded"
                doc(second, **{h.EVENT_ID: "00000000-0000-5000-8000-000000000000"}),
            ],
        )
        entries = await entries_of(settings, 5)
        events = [r async for r in read_topic(settings.kafka_connection(), settings.topics.events)]

        assert events == [], "nothing of the person got through"
        assert [e.header(h.DLQ_REASON) for e in entries] == ["invalid_xml"] + ["parked"] * 4
        assert {e.header(h.DLQ_PARKED_BEHIND) for e in entries[1:]} == {blocker_id}
        for entry in entries[2:]:
            assert not [k for k, _ in _input_headers(entry) if k.startswith(h.HUB_PREFIX)]

        refused = [r for r in await trail(settings) if r.step is AuditStep.HEADERS_REFUSED]
        notes = {r.input.offset: r.note for r in refused if r.input}
        assert sorted(notes) == [p.offset for p in forged]
        assert notes[forged[1].offset] == "hub-replay-of, hub-replay-group, hub-control"
        assert notes[forged[2].offset] == "hub-event-id"
        assert {r.reason for r in refused} == {"untrusted_headers"}

        # The hub's own release is sealed: discarding the blocker (and the forged control
        # record's entry, which is no document) lets the parked ones follow, in order.
        all_entries = await load_dead_letters(settings)
        control_entry = entries[3].header(h.DLQ_ID) or ""
        chosen = select(all_entries, Selection(ids=(blocker_id, control_entry)))
        plan = plan_discard(all_entries, chosen, operator=OPERATOR, now=datetime.now(UTC))
        await discard(
            settings, plan, operator=OPERATOR, why="source resent", signer=load_signer(settings)
        )
        await send(settings, [doc(third)])
        released = await collect(
            settings.kafka_connection(),
            settings.topics.events,
            until=lambda rs: len({r.header(h.SOURCE_EVENT_ID) for r in rs}) >= 3,
        )
    assert len({r.header(h.SOURCE_EVENT_ID) for r in released}) == 3


def _input_headers(entry: InboundRecord) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in entry.headers if not k.startswith(h.DLQ_PREFIX)]
