"""An older revision of a delivery entry written after its newest (a stalled old owner's late
send) is found as it is read, and the newest is written again, so the compacted topic's last
record of the message is its newest: what a process started after compaction reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.follow_index import TopicFollower
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.sink import MemorySink
from hub.recipients.overwrites import OverwriteRepair
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, entry_record
from hub.settings import KafkaSettings
from tests.recipients.test_delivery_index import entry
from tests.support import NewTopic, RunningKafka

TOPIC = "hub.deliveries.v1"


def read(entries: Sequence[DeliveryEntry], first_offset: int = 0) -> list[InboundRecord]:
    """`entries` as the follower reads them from the topic, in this order."""
    records = []
    for offset, e in enumerate(entries, start=first_offset):
        made = entry_record(e, TOPIC)
        records.append(
            InboundRecord(Position(TOPIC, 0, offset), made.key, made.value, made.headers, 0)
        )
    return records


def test_an_older_revision_read_after_the_newest_is_noted_with_the_newest() -> None:
    index = DeliveryIndex()
    first = entry(1)
    closed = first.changed(open=False)
    index.apply_records(read([first, closed]))
    assert index.take_overwritten() == []
    index.apply_records(read([first], first_offset=2))  # the old owner's late send
    assert index.get(first.messageid) == closed, "no running process goes back"
    assert index.take_overwritten() == [closed]
    assert index.take_overwritten() == [], "taken once"


def test_within_one_batch_too() -> None:
    index = DeliveryIndex()
    first = entry(1)
    index.apply_records(read([first.changed(open=False), first, entry(2)]))
    assert [e.messageid for e in index.take_overwritten()] == [first.messageid]


def test_a_revision_the_process_itself_made_ahead_of_its_reading_is_no_overwrite() -> None:
    # A stage commits its newest revisions to its index before its follower reads them back:
    # reading the older ones then is reading the topic in order, not an overwrite.
    index = DeliveryIndex()
    first = entry(1)
    closed = first.changed(open=False)
    index.put(closed)
    index.apply_records(read([first]))
    index.apply_records(read([closed], first_offset=1))
    assert index.take_overwritten() == []


def test_the_newest_read_again_after_the_old_one_clears_it() -> None:
    index = DeliveryIndex()
    first = entry(1)
    closed = first.changed(open=False)
    index.apply_records(read([first, closed, first, closed]))
    assert index.take_overwritten() == [], "another process wrote the newest again already"


async def test_the_repair_writes_the_newest_again_and_counts_it() -> None:
    index, sink, counted = DeliveryIndex(), MemorySink(), []
    first = entry(1)
    closed = first.changed(open=False)
    index.apply_records(read([first, closed, first]))
    repair = OverwriteRepair(
        index=index, sink=sink, deliveries_topic=TOPIC, every_s=1.0, on_rewritten=counted.append
    )
    assert await repair.repair() == 1
    assert sink.values(TOPIC) == [entry_record(closed, TOPIC).value]
    assert counted == [1]
    assert await repair.repair() == 0


@pytest.mark.kafka
async def test_on_the_broker_the_topics_last_record_of_the_message_is_the_newest_again(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    connection = kafka.connection
    topic = await new_topic("deliveries", config={"cleanup.policy": "compact"})
    producer = build_producer(connection, KafkaSettings())
    await producer.start()
    index = DeliveryIndex()
    follower = TopicFollower(connection, topic, index)
    try:
        sink = KafkaRecordSink(producer)
        first = entry(1)
        closed = first.changed(open=False)
        for late in (first, closed, first):  # the last: an old owner's send, after the newest
            await (await sink.send(entry_record(late, topic)))
        await follower.start()
        repair = OverwriteRepair(index=index, sink=sink, deliveries_topic=topic, every_s=0.1)
        task = asyncio.create_task(repair.run())
        try:
            deadline = time.monotonic() + 30
            last = await last_revision(connection, topic, first.messageid)
            while last != closed.rev and time.monotonic() < deadline:
                last = await last_revision(connection, topic, first.messageid)
            assert last == closed.rev, "the newest revision was not written again within 30 s"
        finally:
            task.cancel()
    finally:
        await follower.stop()
        await producer.stop()


async def last_revision(connection: KafkaConnection, topic: str, message_id: str) -> int | None:
    last = None
    async for record in read_topic(connection, topic):
        found = DeliveryEntry.model_validate_json(record.value or b"{}")
        if found.messageid == message_id:
            last = found.rev
    return last
