"""An older state written after the newest on a compacted state topic (a stalled old owner's
late send) is found as it is read, and the newest is written again, so the topic's last record
of the key is its newest: what a process started after compaction reads. For delivery entries
the newest is the highest revision; for consent, every grant read, a withdrawal above all."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest

from hub.kafka.follow_index import TopicFollower
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.sink import MemorySink, RecordSink
from hub.recipients.overwrites import OverwriteRepair
from hub.routing.consent import ConsentBook, ConsentGrant, ConsentState, consent_record
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, entry_record
from hub.settings import KafkaSettings
from schemas.errors import TransientError
from schemas.events.codes import ConsentRecipient
from tests.recipients.test_delivery_index import entry
from tests.support import NewTopic, RunningKafka

TOPIC = "hub.deliveries.v1"
CONSENT = "hub.consent.v1"
AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def read(entries: Sequence[DeliveryEntry], first_offset: int = 0) -> list[InboundRecord]:
    """`entries` as the follower reads them from the topic, in this order."""
    return as_read([entry_record(e, TOPIC) for e in entries], first_offset)


def as_read(made: Sequence[OutboundRecord], first_offset: int = 0) -> list[InboundRecord]:
    return [
        InboundRecord(Position(r.topic, 0, offset), r.key, r.value, r.headers, 0)
        for offset, r in enumerate(made, start=first_offset)
    ]


def deliveries_repair(
    index: DeliveryIndex, sink: RecordSink, topic: str = TOPIC, **more: Any
) -> OverwriteRepair[DeliveryEntry]:
    return OverwriteRepair(
        name="deliveries",
        view=index,
        record_of=lambda e: entry_record(e, topic),
        key_of=lambda e: e.messageid,
        sink=sink,
        every_s=more.pop("every_s", 1.0),
        **more,
    )


def grant(recipient: ConsentRecipient, given: bool, minutes: int) -> ConsentGrant:
    return ConsentGrant(
        recipient=recipient,
        given=given,
        at=AT + dt.timedelta(minutes=minutes),
        eventid=f"e{minutes}",
    )


GIVEN = ConsentState(subject="person-1", grants=(grant(ConsentRecipient.NAV, True, 0),))
WITHDRAWN = GIVEN.merged([grant(ConsentRecipient.NAV, False, 5)])


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
    repair = deliveries_repair(index, sink, on_rewritten=counted.append)
    assert await repair.repair() == 1
    assert sink.values(TOPIC) == [entry_record(closed, TOPIC).value]
    assert counted == [1]
    assert await repair.repair() == 0


def test_a_consent_state_read_without_a_grant_read_before_is_noted_with_every_grant() -> None:
    book = ConsentBook()
    book.apply_records(
        as_read([consent_record(GIVEN, CONSENT), consent_record(WITHDRAWN, CONSENT)])
    )
    assert book.take_overwritten() == []
    book.apply_records(as_read([consent_record(GIVEN, CONSENT)], 2))  # the withdrawal is lost
    assert book.get("person-1").in_force(AT.date()) == frozenset(), "no running process shares"
    assert book.take_overwritten() == [WITHDRAWN]


def test_consent_a_process_gave_ahead_of_its_reading_is_no_overwrite() -> None:
    book = ConsentBook()
    book.put(WITHDRAWN)
    book.apply_records(
        as_read([consent_record(GIVEN, CONSENT), consent_record(WITHDRAWN, CONSENT)])
    )
    assert book.take_overwritten() == []


async def test_the_repair_writes_the_withdrawal_again() -> None:
    book, sink = ConsentBook(), MemorySink()
    made = [consent_record(s, CONSENT) for s in (GIVEN, WITHDRAWN, GIVEN)]
    book.apply_records(as_read(made))
    repair = OverwriteRepair(
        name="consent",
        view=book,
        record_of=lambda state: consent_record(state, CONSENT),
        key_of=lambda state: state.subject,
        sink=sink,
        every_s=1.0,
    )
    assert await repair.repair() == 1
    assert sink.values(CONSENT) == [consent_record(WITHDRAWN, CONSENT).value]


async def test_a_failed_write_is_tried_again_at_the_next_round() -> None:
    index = DeliveryIndex()
    first = entry(1)
    closed = first.changed(open=False)
    index.apply_records(read([first, closed, first]))
    with pytest.raises(TransientError):
        await deliveries_repair(index, FailingSink()).repair()
    sink = MemorySink()
    assert await deliveries_repair(index, sink).repair() == 1
    assert sink.values(TOPIC) == [entry_record(closed, TOPIC).value]


class FailingSink:
    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        raise TransientError("the broker is away")


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
        repair = deliveries_repair(index, sink, topic, every_s=0.1)
        task = asyncio.create_task(repair.run())
        try:
            # Read as it comes (one consumer): the three records written, then the rewrite.
            seen = [
                DeliveryEntry.model_validate_json(r.value or b"{}").rev
                async for r in read_topic(connection, topic, max_records=4, follow_s=30)
            ]
            assert seen == [0, 1, 0, 1], "the newest revision was not written again within 30 s"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await follower.stop()
        await producer.stop()
