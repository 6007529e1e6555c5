"""On the real broker: a batch consumed again decides what it decided the first time.

The crash is simulated where it matters: a batch's outputs and delivery state are acknowledged,
its offsets are not committed, and a fresh stage, its index rebuilt from the deliveries topic as
at a restart, processes the same batch again. Compaction is read as what it keeps: the last
record per key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hub.bootstrap import load_routing
from hub.kafka.admin import TopicSpec, ensure_topics
from hub.kafka.follow_index import TopicFollower
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.pipeline import headers as h
from hub.pipeline.ingest import canonical_record
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import RecordOutcome, StageRunner
from hub.pipeline.sink import RecordSink
from hub.recipients.base import StageContext, recipient_step
from hub.recipients.police_register import PoliceRegister
from hub.recipients.receipts import ReceiptContext, ReceiptTopics, receipt_step
from hub.recipients.runner import IndexedRunner
from hub.routing.consent import ConsentBook, StagedConsent
from hub.routing.deliveries import DeliveryEntry, DeliveryIndex, StagedIndex
from hub.settings import HubSettings
from schemas.errors import TransientError
from schemas.events import CanonicalEvent, ReleaseCancelled, ReleasePlanned
from schemas.ids import canonical_id
from tests.events import make_event
from tests.recipients.support import NOW
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka]

_SOURCE = "urn:no:kriminalomsorgen:koda"
# What the log cleaner keeps of a compacted topic is the last record per key; these settings
# make it clean early, though the tests read "last per key" themselves rather than wait for it.
_COMPACTED = {
    "cleanup.policy": "compact",
    "segment.ms": "100",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "100",
}


@dataclass
class Topics:
    prefix: str
    deliveries: str
    alerts: str
    dlq: str

    @property
    def consent(self) -> str:
        return f"{self.prefix}consent"

    @property
    def out(self) -> str:
        return f"{self.prefix}out.police-register.v1"

    @property
    def receipts(self) -> str:
        return f"{self.prefix}receipts.police-register.v1"


@pytest.fixture
async def topics(kafka: RunningKafka) -> Topics:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    made = Topics(prefix, f"{prefix}deliveries", f"{prefix}alerts", f"{prefix}dlq")
    specs = [TopicSpec(made.deliveries, 2, config=_COMPACTED)]
    specs += [TopicSpec(made.consent, 1, config=_COMPACTED)]
    specs += [TopicSpec(name, 1) for name in (made.alerts, made.dlq, made.out, made.receipts)]
    await ensure_topics(kafka.connection, specs, timeout=30.0)
    return made


@dataclass
class Stages:
    route: StageRunner
    receipts: StageRunner


class CutOff:
    """A process killed while its batch's records are in flight: the broker keeps any part of
    them, here those `lands` picks; the others are lost with the process."""

    def __init__(self, sink: RecordSink, lands: Callable[[OutboundRecord], bool]) -> None:
        self.sink, self.lands = sink, lands

    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        if self.lands(record):
            return await self.sink.send(record)
        lost: asyncio.Future[Position] = asyncio.get_running_loop().create_future()
        lost.set_exception(TransientError("lost with the process"))
        return lost


@asynccontextmanager
async def started(
    kafka: RunningKafka,
    topics: Topics,
    *,
    recheck_s: float = 60.0,
    lands: Callable[[OutboundRecord], bool] | None = None,
) -> AsyncIterator[Stages]:
    """The police register's stage and the receipts stage as a hub process starts them: the
    index read from the deliveries topic, nothing kept from an earlier process."""
    policy = load_routing(HubSettings()).policy
    index = DeliveryIndex()
    follower = TopicFollower(kafka.connection, topics.deliveries, index)
    producer = build_producer(kafka.connection, kafka.kafka_settings())
    await producer.start()
    await follower.start()
    try:
        sink: RecordSink = KafkaRecordSink(producer, recheck_s=recheck_s)
        if lands is not None:
            sink = CutOff(sink, lands)
        route_index = StagedIndex(index)
        ctx = StageContext(
            policy=policy,
            index=route_index,
            deliveries_topic=topics.deliveries,
            alerts_topic=topics.alerts,
            topic_prefix=topics.prefix,
            verify=lambda _record: None,
            sign=lambda record: record,
            clock=lambda: NOW,
            consent=StagedConsent(ConsentBook(), topics.consent),
        )
        receipt_index = StagedIndex(index)
        receipt_ctx = ReceiptContext(
            index=receipt_index,
            topics=ReceiptTopics(policy, topics.prefix),
            deliveries_topic=topics.deliveries,
            alerts_topic=topics.alerts,
            sign=lambda record: record,
            clock=lambda: NOW,
        )
        yield Stages(
            route=IndexedRunner(
                index=route_index,
                catch_up=follower.catch_up,
                stage="route_police_register",
                step=recipient_step(PoliceRegister(), ctx),
                sink=sink,
                dlq_topic=topics.dlq,
            ),
            receipts=IndexedRunner(
                index=receipt_index,
                catch_up=follower.catch_up,
                stage="receipts",
                step=receipt_step(receipt_ctx),
                sink=sink,
                dlq_topic=topics.dlq,
            ),
        )
    finally:
        await follower.stop()
        await producer.stop()


def inbound(event: CanonicalEvent, offset: int) -> InboundRecord:
    out = canonical_record(event, "hub.events.v1")
    assert out.value is not None
    return InboundRecord(Position(out.topic, 0, offset), out.key, out.value, out.headers)


def sent(outcomes: Sequence[RecordOutcome], topic: str) -> list[tuple[str | None, str | None]]:
    """The messages a batch sent to `topic`: their ids and actions, in order."""
    return [
        (d.record.header(h.EVENT_ID), d.record.header(h.ACTION))
        for outcome in outcomes
        for d in outcome.deliveries
        if d.record.topic == topic
    ]


def events() -> tuple[CanonicalEvent, CanonicalEvent, CanonicalEvent]:
    """A planned release, its correction, and the cancellation of the corrected plan."""
    planned = make_event(ReleasePlanned)
    corrected = make_event(
        ReleasePlanned,
        id=canonical_id(_SOURCE, "KODA-TEST-2"),
        sourceeventid="KODA-TEST-2",
        replaces=planned.id,
    )
    cancelled = make_event(
        ReleaseCancelled, id=canonical_id(_SOURCE, "KODA-TEST-3"), sourceeventid="KODA-TEST-3"
    )
    return planned, corrected, cancelled


async def last_per_key(kafka: RunningKafka, topic: str) -> dict[bytes, DeliveryEntry]:
    """What compaction keeps of the deliveries topic: the last record of every key."""
    kept: dict[bytes, DeliveryEntry] = {}
    async for record in read_topic(kafka.connection, topic):
        assert record.key is not None
        kept[record.key] = DeliveryEntry.model_validate_json(record.value)
    return kept


async def test_a_batch_consumed_again_after_its_state_was_written_sends_the_same(
    kafka: RunningKafka, topics: Topics
) -> None:
    planned, corrected, cancelled = events()
    batch = [inbound(corrected, 2), inbound(cancelled, 3)]
    async with started(kafka, topics) as first:
        await first.route.run_batch([inbound(planned, 1)])
        before = sent(await first.route.run_batch(batch), topics.out)
        # Acknowledged, and then the process dies before its offsets are committed.

    async with started(kafka, topics) as restarted:
        again = sent(await restarted.route.run_batch(batch), topics.out)
        # Consumed a third time by the same process, too.
        third = sent(await restarted.route.run_batch(batch), topics.out)

    assert [action for _, action in before] == ["correction", "cancellation"]
    assert again == before
    assert third == before


def entry_of(record: OutboundRecord) -> DeliveryEntry | None:
    if record.value is None or not record.topic.endswith("deliveries"):
        return None
    return DeliveryEntry.model_validate_json(record.value)


# Which of a cancellation's two delivery-state records reached the broker before the crash:
# its own message's entry, and its plan's notice closed.
_LANDED: dict[str, Callable[[DeliveryEntry], bool]] = {
    "neither": lambda _entry: False,
    "its message's entry": lambda entry: entry.closedby is None,
    "the plan closed": lambda entry: entry.closedby is not None,
    "both": lambda _entry: True,
}


@pytest.mark.parametrize("landed", list(_LANDED))
async def test_a_batch_cut_off_mid_write_sends_again_what_it_was_sending(
    kafka: RunningKafka, topics: Topics, landed: str
) -> None:
    planned, _, cancelled = events()
    async with started(kafka, topics) as first:
        await first.route.run_batch([inbound(planned, 1)])

    def lands(record: OutboundRecord) -> bool:
        entry = entry_of(record)
        return entry is not None and _LANDED[landed](entry)

    async with started(kafka, topics, lands=lands) as killed:
        with pytest.raises(TransientError):
            await killed.route.run_batch([inbound(cancelled, 2)])

    async with started(kafka, topics) as restarted:
        again = sent(await restarted.route.run_batch([inbound(cancelled, 2)]), topics.out)
    assert [action for _, action in again] == ["cancellation"]
    kept = await last_per_key(kafka, topics.deliveries)
    plans = [e for e in kept.values() if e.canonicalid == planned.id]
    assert [(e.open, e.closedby) for e in plans] == [(False, cancelled.id)]


async def test_a_repeat_never_moves_a_receipt_back_even_after_compaction(
    kafka: RunningKafka, topics: Topics
) -> None:
    planned, _, _ = events()
    async with started(kafka, topics) as first:
        ((message_id, action),) = sent(
            await first.route.run_batch([inbound(planned, 1)]), topics.out
        )
        assert action == "notice"
        receipt = f'{{"messageid": "{message_id}", "status": "received"}}'.encode()
        record = InboundRecord(Position(topics.receipts, 0, 0), b"r", receipt, (), 0)
        (accepted,) = await first.receipts.run_batch([record])
        assert not accepted.dead_lettered

    # The planned release's batch again (its offset was never committed), after a restart.
    async with started(kafka, topics) as restarted:
        again = sent(await restarted.route.run_batch([inbound(planned, 1)]), topics.out)
    assert again == [(message_id, "notice")]

    # After compaction only the last record per key is left, and a restart reads just that.
    assert message_id is not None
    index = DeliveryIndex()
    index.put_all((await last_per_key(kafka, topics.deliveries)).values())
    kept = index.get(message_id)
    assert kept is not None
    assert kept.receipt.status is not None
    assert kept.receipt.status.value == "received"


async def set_limit(kafka: RunningKafka, topic: str, limit: int) -> None:
    """Set `topic`'s max.message.bytes, and return once the broker describes it so."""
    admin = AIOKafkaAdminClient(**kafka.connection.aiokafka())
    await admin.start()
    try:
        wanted = {"max.message.bytes": str(limit)}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, wanted)])
        for _ in range(100):
            (described,) = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": None})]
            )
            entries = described.resources[0][4]
            if any(e[0] == "max.message.bytes" and e[1] == str(limit) for e in entries):
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    pytest.fail(f"the broker did not take max.message.bytes={limit} for {topic}")


async def test_an_event_whose_message_was_refused_leaves_no_state_and_goes_out_when_replayed(
    kafka: RunningKafka, topics: Topics
) -> None:
    planned, _, _ = events()
    await set_limit(kafka, topics.out, 200)
    async with started(kafka, topics, recheck_s=0.0) as stage:
        (refused,) = await stage.route.run_batch([inbound(planned, 1)])
        assert refused.failure is not None
        assert refused.failure.error.reason.value == "output_rejected"
        # The operator makes room, and replays the dead-lettered event.
        await set_limit(kafka, topics.out, 1_000_000)
        replayed = await stage.route.run_batch([inbound(planned, 1)])

    ((message_id, action),) = sent(replayed, topics.out)
    assert action == "notice"
    assert message_id is not None
    # Its delivery state is on the topic, where a restarted hub (and its receipts) will look.
    kept = await last_per_key(kafka, topics.deliveries)
    assert message_id.encode() in kept
