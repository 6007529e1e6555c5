"""A running hub writes again the state a stalled old owner's late send overwrote: after an
older delivery entry, an older consent (the withdrawal missing) and an older parking state (the
person blocked again after their release) land on the hub's compacted topics behind the newest,
the last record of each key is the newest again within seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.pipeline.parking import ParkingState, state_record
from hub.pipeline.records import OutboundRecord
from hub.routing.consent import consent_record
from hub.routing.deliveries import entry_record
from hub.settings import KafkaSettings
from tests.e2e.harness import HubEnv, HubProcess
from tests.recipients.test_delivery_index import entry
from tests.recipients.test_overwrites import GIVEN, WITHDRAWN
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# A person blocked in a route kind's stage at offset 5 of the events, released at 9.
BLOCKED = ParkingState(
    "hub.route.nav",
    "pk-0123456789abcdef0123456789abcdef",
    "6f1c2a7e-1111-5222-8333-944455556666",
    5,
)
RELEASED = ParkingState(BLOCKED.group, BLOCKED.person, None, 9)


async def test_a_running_hub_puts_the_newest_state_back_on_its_topics(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(
        kafka.connection, tmp_path / "hub", overrides={"routing": {"overwrite_repair_every_s": 0.2}}
    )
    await env.create_topics()
    topics = env.settings().topics
    opened = entry(1)
    closed = opened.changed(open=False)
    hub = HubProcess(env, tmp_path / "hub.log")
    hub.start()
    try:
        # What the old owner's late sends leave: the older state last.
        await write(
            kafka.connection,
            [entry_record(e, topics.deliveries) for e in (opened, closed, opened)]
            + [consent_record(s, topics.consent) for s in (GIVEN, WITHDRAWN, GIVEN)]
            + [state_record(s, topics.parking) for s in (BLOCKED, RELEASED, BLOCKED)],
        )
        delivery = await last_of(kafka.connection, topics.deliveries, closed.messageid.encode())
        consent = await last_of(kafka.connection, topics.consent, GIVEN.subject.encode())
        parked = await last_of(kafka.connection, topics.parking, state_record(BLOCKED, "").key)
    finally:
        assert hub.stop() == 0
    assert delivery == entry_record(closed, topics.deliveries).value
    assert consent == consent_record(WITHDRAWN, topics.consent).value
    assert parked == state_record(RELEASED, topics.parking).value
    assert '"event": "state.rewritten"' in hub.log_path.read_text()


async def write(connection: KafkaConnection, records: list[OutboundRecord]) -> None:
    producer = build_producer(connection, KafkaSettings())
    await producer.start()
    try:
        sink = KafkaRecordSink(producer)
        for record in records:
            await (await sink.send(record))
    finally:
        await producer.stop()


async def last_of(connection: KafkaConnection, topic: str, key: bytes) -> bytes | None:
    """The value of `key`'s fourth record on `topic` (the hub's rewrite, after the three the
    test wrote), read as it comes, or of its last one if none comes within 30 s."""
    found = [
        r async for r in read_topic(connection, topic, max_records=4, follow_s=30) if r.key == key
    ]
    return found[-1].value if len(found) == 4 else None
