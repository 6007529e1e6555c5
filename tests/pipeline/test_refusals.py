"""On the real broker: no record stops its partition. A record the broker refuses for good is
dead-lettered as `output_rejected`, a dead-letter entry it refuses is written cut short with an
alert, and in every case the batch is committed and the next record goes through."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError
from confluent_kafka import Consumer, KafkaException
from faststream.kafka import KafkaBroker

from hub.access import AclBinding, Operation, PatternType, ResourceType
from hub.kafka.accounts import grant_acls, new_password, set_scram_password
from hub.kafka.connection import KafkaConnection
from hub.kafka.producer import KafkaRecordSink, build_producer, refusal
from hub.kafka.reader import read_topic
from hub.kafka.subscriber import subscribe_stage
from hub.metrics import HubMetrics
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord
from hub.pipeline.runner import StageRunner
from hub.pipeline.sink import RecordSink
from hub.settings import KafkaSettings
from schemas.errors import InputRejected, Reason
from tests.support import NewTopic, RunningKafka

pytestmark = [pytest.mark.kafka]

_MIB = 1024 * 1024
Step = Callable[[InboundRecord], Sequence[OutboundRecord]]


def rejects_big(limit: int) -> Step:
    """A stage that turns away any document over `limit` bytes, as ingest does (`too_large`)."""

    def step(record: InboundRecord) -> Sequence[OutboundRecord]:
        if len(record.value) > limit:
            raise InputRejected(f"{len(record.value)} bytes", reason=Reason.TOO_LARGE)
        return []

    return step


def forwards_to(topic: str) -> Step:
    def step(record: InboundRecord) -> Sequence[OutboundRecord]:
        return [OutboundRecord(topic, record.key, record.value)]

    return step


GROUP_PREFIX = "test-refusals-"


async def run_until_committed(
    kafka: RunningKafka,
    *,
    source: str,
    step: Step,
    dlq: str,
    inputs: Sequence[bytes],
    metrics: HubMetrics | None = None,
    compression: str | None = None,
    settings: KafkaSettings | None = None,
    connection: KafkaConnection | None = None,
    sink: RecordSink | None = None,
) -> None:
    """Publish `inputs` and run the stage (as `connection`, default the admin) until the
    group's offset has passed all of them."""
    group = f"{GROUP_PREFIX}{uuid.uuid4().hex[:8]}"
    settings = settings or kafka.kafka_settings()
    connection = connection or kafka.connection

    producer = build_producer(connection, settings)
    runner = StageRunner(
        stage="test",
        group=group,
        step=step,
        sink=sink or KafkaRecordSink(producer),
        dlq_topic=dlq,
        observer=metrics,
    )
    broker = KafkaBroker(
        kafka.bootstrap_servers,
        security=connection.faststream_security(),
        consumer_only=True,
        allow_auto_create_topics=False,
    )
    subscribe_stage(broker, runner, topic=source, group_id=group, kafka=settings)
    await publish(kafka.connection, source, inputs, compression=compression)
    admin = AIOKafkaAdminClient(**kafka.connection.aiokafka())
    await admin.start()
    await producer.start()
    try:
        async with broker:
            await broker.start()
            # Within 30 s: a batch rewound forever (every 2 s) would never get there.
            for _ in range(300):
                offsets = await admin.list_consumer_group_offsets(group)
                if sum(meta.offset for meta in offsets.values()) >= len(inputs):
                    return
                await asyncio.sleep(0.1)
    finally:
        await producer.stop()
        await admin.close()
    pytest.fail("the stage never committed its input: a record stopped the partition")


async def publish(
    bootstrap: KafkaConnection,
    topic: str,
    values: Sequence[bytes],
    *,
    compression: str | None = None,
) -> None:
    producer = AIOKafkaProducer(
        **bootstrap.aiokafka(), compression_type=compression, max_request_size=64 * _MIB
    )
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(
                topic, value, key=b"person-one", headers=[("source-header", b"x" * 200)]
            )
    finally:
        await producer.stop()


async def records(kafka: RunningKafka, topic: str) -> list[InboundRecord]:
    return [r async for r in read_topic(kafka.connection, topic)]


def sha256(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


# As the catalogue makes the inbound and dead-letter topics (`hub.topics`), with the default limit.
_LARGE = {"max.message.bytes": str(8 * _MIB + 64 * 1024)}


async def test_a_huge_document_that_came_compressed_is_dead_lettered_cut_and_counted(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    source, dlq = await new_topic("in", config=_LARGE), await new_topic("dlq", config=_LARGE)
    metrics = HubMetrics()
    # 40 MiB of text gzips to a few tens of KB: the inbound topic takes it as it came.
    huge = b"<dokument>" + b"a" * (40 * _MIB) + b"</dokument>"
    assert len(gzip.compress(huge)) < 100 * 1024

    await run_until_committed(
        kafka,
        source=source,
        step=rejects_big(1 * _MIB),
        dlq=dlq,
        metrics=metrics,
        compression="gzip",
        inputs=[huge, b"big enough", b"<x>too</x>" * 200_000],
    )

    # A cut entry is written after the batch's other entries, so in input order by their offsets.
    entries = sorted(await records(kafka, dlq), key=lambda e: int(e.header(h.DLQ_OFFSET) or 0))
    assert [e.header(h.DLQ_REASON) for e in entries] == ["too_large", "too_large"]
    cut, whole = entries
    assert cut.header(h.DLQ_ORIGINAL_SIZE) == str(len(huge))
    assert cut.header(h.DLQ_ORIGINAL_SHA256) == sha256(huge)
    assert cut.value == huge[: len(cut.value)]
    assert 0 < len(cut.value) <= 64 * 1024
    assert "takes at most" in (cut.header(h.DLQ_CUT) or "")
    assert cut.header(h.DLQ_OFFSET) == "0"
    assert cut.key == b"person-one"
    assert whole.header(h.DLQ_CUT) is None
    assert whole.value == b"<x>too</x>" * 200_000
    # What operators alert on: one entry cut, one dead-lettered whole.
    value = metrics.registry.get_sample_value
    assert value("hub_dead_letters_cut_total", {"stage": "test"}) == 1
    assert value("hub_dead_letters_total", {"stage": "test", "reason": "too_large"}) == 2


async def test_a_record_near_the_limit_whose_dead_letter_the_headers_push_over_it_is_cut(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    # The broker's limit, not the producer's, is the one hit: the topics take 200 KiB.
    limit = {"max.message.bytes": str(200 * 1024)}
    source, dlq = await new_topic("in", config=limit), await new_topic("dlq", config=limit)
    near = b"n" * (200 * 1024 - 400)

    await run_until_committed(
        kafka, source=source, step=rejects_big(1024), dlq=dlq, inputs=[near, b"small"]
    )

    (cut,) = await records(kafka, dlq)
    assert cut.header(h.DLQ_REASON) == "too_large"
    assert cut.header(h.DLQ_ORIGINAL_SIZE) == str(len(near))
    assert cut.header(h.DLQ_ORIGINAL_SHA256) == sha256(near)
    assert cut.value == near[: 64 * 1024]
    # The input's own headers are what a cut entry drops; the hub's verdict stays.
    assert cut.header("source-header") is None
    assert cut.header(h.DLQ_STAGE) == "test"


async def test_an_output_the_broker_refuses_dead_letters_its_input_and_the_topic_still_works(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    source, dlq = await new_topic("in", config=_LARGE), await new_topic("dlq", config=_LARGE)
    out = await new_topic("out", config={"max.message.bytes": str(10 * 1024)})
    big = b"b" * (50 * 1024)

    await run_until_committed(
        kafka,
        source=source,
        step=forwards_to(out),
        dlq=dlq,
        inputs=[b"before", big, b"after", big, b"last"],
    )

    entries = await records(kafka, dlq)
    assert [e.header(h.DLQ_REASON) for e in entries] == ["output_rejected"] * 2
    assert [e.value for e in entries] == [big, big]
    assert [e.header(h.DLQ_OFFSET) for e in entries] == ["1", "3"]
    assert all(e.header(h.DLQ_CUT) is None for e in entries)
    # The idempotent producer goes on writing that partition: had the broker refused the
    # record rather than the sink, every later record there would be out of sequence.
    assert [r.value for r in await records(kafka, out)] == [b"before", b"after", b"last"]


@pytest.fixture
def unwritable_topic() -> Callable[[], Awaitable[str]]:
    """A topic no one can write: a name no topic has, on a broker that makes no topic on first
    write. (A topic the ACLs refuse: the test after the next.)"""

    async def name() -> str:
        return f"no-such-topic.{uuid.uuid4().hex[:12]}"

    return name


async def test_an_output_to_a_topic_the_hub_may_not_write_is_dead_lettered(
    kafka: RunningKafka, new_topic: NewTopic, unwritable_topic: Callable[[], Awaitable[str]]
) -> None:
    source, dlq = await new_topic("in", config=_LARGE), await new_topic("dlq", config=_LARGE)
    out = await unwritable_topic()
    settings = kafka.kafka_settings(request_timeout_ms=3_000)
    inputs = [f"input {n}".encode() for n in range(8)]

    started = time.monotonic()
    await run_until_committed(
        kafka, source=source, step=forwards_to(out), dlq=dlq, inputs=inputs, settings=settings
    )
    await _all_dead_lettered(kafka, dlq, inputs, started)


async def test_an_output_the_acls_refuse_is_dead_lettered(
    kafka: RunningKafka, new_topic: NewTopic
) -> None:
    """The stage runs as a principal that may describe its output topic but not write it: the
    broker answers TopicAuthorizationFailed, and the stream goes on."""
    source, dlq = await new_topic("in", config=_LARGE), await new_topic("dlq", config=_LARGE)
    out = await new_topic("refused")
    stage = await asyncio.to_thread(_stage_principal, kafka, source=source, dlq=dlq, out=out)
    inputs = [f"input {n}".encode() for n in range(8)]

    started = time.monotonic()
    await run_until_committed(
        kafka,
        source=source,
        step=forwards_to(out),
        dlq=dlq,
        inputs=inputs,
        settings=kafka.kafka_settings(request_timeout_ms=3_000),
        connection=stage,
    )
    await _all_dead_lettered(kafka, dlq, inputs, started)
    assert await records(kafka, out) == [], "nothing reached the refused topic"


def _stage_principal(kafka: RunningKafka, *, source: str, dlq: str, out: str) -> KafkaConnection:
    name = f"test.stage-{uuid.uuid4().hex[:8]}"
    user = f"User:{name}"
    read, write, describe = Operation.READ, Operation.WRITE, Operation.DESCRIBE

    def topic(resource: str, operation: Operation) -> AclBinding:
        return AclBinding(user, ResourceType.TOPIC, PatternType.LITERAL, resource, operation)

    bindings = [
        topic(source, read),
        topic(dlq, write),
        topic(out, describe),
        *(topic(t, Operation.DESCRIBE_CONFIGS) for t in (source, dlq, out)),
        AclBinding(user, ResourceType.GROUP, PatternType.PREFIXED, GROUP_PREFIX, read),
    ]
    password = new_password()
    set_scram_password(kafka.connection, name, password)
    grant_acls(kafka.connection, bindings)
    stage = kafka.connection.as_user(name, password)
    _wait_until_visible(stage, dlq)
    return stage


def _wait_until_visible(connection: KafkaConnection, topic: str) -> None:
    # New ACLs and credentials reach the broker's caches a moment after they are made.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        consumer = Consumer(
            connection.properties() | {"group.id": "acl-wait", "log_level": 0, "error_cb": print}
        )
        try:
            if topic in consumer.list_topics(timeout=5).topics:
                return
        except KafkaException:
            pass
        finally:
            consumer.close()
        time.sleep(0.5)
    raise AssertionError(f"{connection.username} could not see {topic} within 30 s")


async def _all_dead_lettered(
    kafka: RunningKafka, dlq: str, inputs: list[bytes], started: float
) -> None:

    entries = await records(kafka, dlq)
    assert [e.header(h.DLQ_REASON) for e in entries] == ["output_rejected"] * len(inputs)
    assert [e.value for e in entries] == inputs
    # A refusal is waited for once, not once per record (8 x 3 s).
    assert time.monotonic() - started < 30


def test_permanent_kafka_errors_are_told_from_transient_ones() -> None:
    refused = refusal(TopicAuthorizationFailedError("hub.deliveries.v1"))
    assert refused is not None
    assert refused.reason is Reason.OUTPUT_REJECTED
    assert refusal(KafkaTimeoutError()) is None
