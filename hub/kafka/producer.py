"""The hub's producer: idempotent, acks from all in-sync replicas, exact bytes and headers.

Writing goes through our own aiokafka producer rather than FastStream's publisher because a
dead-letter entry must carry the input's headers byte for byte, and FastStream's publish takes
header values as text. aiokafka's exceptions are translated here and go no further: what the
broker will never take (too large for its topic, a topic the hub may not write or that does not
exist) is a `PermanentError` with reason `output_rejected`, anything else a `TransientError`.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Final

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    PolicyViolationError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
    UnsupportedForMessageFormatError,
)
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.protocol.admin import DescribeConfigsRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from hub.kafka.connection import KafkaConnection
from hub.pipeline.records import OutboundRecord, Position
from hub.settings import KafkaSettings
from schemas.errors import HubError, PermanentError, Reason, TransientError

__all__ = ["KafkaRecordSink", "KeyPartitioner", "build_producer", "refusal", "transient"]

log = structlog.get_logger(__name__)

# Answers about the record itself or about the hub's right to write it: sending the same record
# again gets the same answer. aiokafka's `retriable` flag alone cannot tell these apart (it is
# False for a timeout too), so the permanent ones are named. Not here on purpose: an invalid
# timestamp (a host clock that is off is fixed by fixing the clock, not by dead-lettering).
_REFUSALS: Final[tuple[type[KafkaError], ...]] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    UnsupportedForMessageFormatError,
    TopicAuthorizationFailedError,
    InvalidTopicError,
    PolicyViolationError,
)
# A topic's limit is asked once a minute at most, and a missing topic looked for again after as
# long: a changed limit or a topic made since counts within that time.
_RECHECK_S: Final = 60.0
_TOPIC_RESOURCE: Final = 2
_MAX_MESSAGE_BYTES: Final = "max.message.bytes"


def build_producer(
    connection: KafkaConnection, kafka: KafkaSettings, *, client_id: str | None = None
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **connection.aiokafka(),
        client_id=client_id or kafka.client_id,
        # Idempotence implies acks=all; both stated so no one has to remember that.
        enable_idempotence=True,
        acks="all",
        linger_ms=kafka.linger_ms,
        request_timeout_ms=kafka.request_timeout_ms,
        max_batch_size=256 * 1024,
        # Room for the largest record plus its headers; see KafkaSettings.max_record_bytes.
        max_request_size=kafka.max_record_bytes + 64 * 1024,
        partitioner=KeyPartitioner(),
    )


class KeyPartitioner:
    """aiokafka's default partitioning (murmur2 of the key, as Java's client does), with each
    key's hash remembered.

    The hash is pure Python, and keys recur: a person's key on their events, messages and
    consent, an audit writer's on every record of its chain. The partition a key goes to must
    never differ from the default one, or a person's records would lose their order.
    """

    def __init__(self, remembered: int = 8192) -> None:
        self._hash = functools.lru_cache(maxsize=remembered)(murmur2)
        self._default = DefaultPartitioner()

    def __call__(
        self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        if key is None:
            return int(self._default(key, all_partitions, available))
        index: int = self._hash(key) & 0x7FFFFFFF
        return all_partitions[index % len(all_partitions)]


class KafkaRecordSink:
    """`hub.pipeline.sink.RecordSink` on a started aiokafka producer."""

    def __init__(self, producer: AIOKafkaProducer, *, recheck_s: float = _RECHECK_S) -> None:
        self._producer = producer
        self._recheck_s = recheck_s
        # Topic → (its max.message.bytes, when that was asked, monotonic seconds).
        self._limits: dict[str, tuple[int, float]] = {}
        # Topic → when it was found missing: aiokafka waits a whole request timeout for a
        # topic's metadata at every send, which a batch of records for it would pay each time.
        self._missing: dict[str, float] = {}

    async def _check_size(self, record: OutboundRecord) -> None:
        """Refuse here a record larger than its topic takes. The broker would refuse it too, but
        the idempotent producer has then numbered it, and the partition's next record is out of
        sequence for the broker: every later write to that partition would fail."""
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            record.key, record.value, list(record.headers)
        )
        limit = await self._limit(record.topic)
        if size > limit:
            raise PermanentError(
                f"a record of {size} bytes; topic {record.topic} takes at most {limit}",
                reason=Reason.OUTPUT_REJECTED,
            )

    async def _limit(self, topic: str) -> int:
        known = self._limits.get(topic)
        if known is not None and time.monotonic() - known[1] < self._recheck_s:
            return known[0]
        client = self._producer.client
        request = DescribeConfigsRequest([(_TOPIC_RESOURCE, topic, [_MAX_MESSAGE_BYTES])])
        try:
            response = await client.send(client.get_random_node(), request)
        except KafkaError as exc:
            raise transient(exc) from exc
        limit = _limit_of(response)
        if limit is None:
            # No such topic (sending will tell), or the hub may not describe its configuration
            # (an ACL to grant, DescribeConfigs): then the broker's refusal is all there is.
            log.warning("topic.limit_unknown", topic=topic)
            limit = sys.maxsize
        self._limits[topic] = (limit, time.monotonic())
        return limit

    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        missing_since = self._missing.get(record.topic)
        if missing_since is not None and time.monotonic() - missing_since < self._recheck_s:
            raise _no_such_topic(record.topic)
        await self._check_size(record)
        try:
            future = await self._producer.send(
                record.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
        except UnknownTopicOrPartitionError as exc:
            raise await self._missing_topic(record.topic, exc) from exc
        except KafkaError as exc:
            raise refusal(exc) or transient(exc) from exc
        return _acknowledged(future)

    async def _missing_topic(self, topic: str, exc: KafkaError) -> HubError:
        """Permanent only when the broker answers and still knows no such topic: the hub makes
        its topics before it writes to them, so one that is missing then will not appear by
        waiting. While the broker does not answer, it is the outage that is the news."""
        client = self._producer.client
        if await client.force_metadata_update() and topic not in client.cluster.topics():
            self._missing[topic] = time.monotonic()
            return _no_such_topic(topic)
        return transient(exc)


def _no_such_topic(topic: str) -> PermanentError:
    detail = f"topic {topic} does not exist and is not made by writing to it"
    return PermanentError(detail, reason=Reason.OUTPUT_REJECTED)


def _limit_of(response: Any) -> int | None:
    for error_code, _message, _type, _name, entries in response.resources:
        if error_code != 0:
            return None
        for entry in entries:
            if entry[0] == _MAX_MESSAGE_BYTES and entry[1] is not None:
                return int(entry[1])
    return None


def _acknowledged(future: asyncio.Future[Any]) -> asyncio.Future[Position]:
    """The position `future` (aiokafka's) stores its record at, or our error for its failure.

    A future chained by a callback, not a coroutine: the runner gathers every output's
    acknowledgement, and gathering a coroutine makes a task of it, one per record written."""
    acknowledged: asyncio.Future[Position] = future.get_loop().create_future()

    def settle(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            acknowledged.cancel()
            return
        # Read even when no one waits any more, so that asyncio never reports it unobserved.
        exc = done.exception()
        if acknowledged.done():
            return
        if exc is None:
            metadata = done.result()
            acknowledged.set_result(Position(metadata.topic, metadata.partition, metadata.offset))
        elif isinstance(exc, KafkaError):
            ours = refusal(exc) or transient(exc)
            ours.__cause__ = exc
            acknowledged.set_exception(ours)
        else:
            acknowledged.set_exception(exc)

    future.add_done_callback(settle)
    return acknowledged


def refusal(exc: KafkaError) -> PermanentError | None:
    """aiokafka's error as ours when the broker will never take the record, else None."""
    if not isinstance(exc, _REFUSALS):
        return None
    return PermanentError(f"{type(exc).__name__}: {exc}", reason=Reason.OUTPUT_REJECTED)


def transient(exc: KafkaError) -> TransientError:
    """aiokafka's error as ours: the broker may answer again in a moment."""
    reason = Reason.TIMEOUT if isinstance(exc, KafkaTimeoutError) else Reason.BROKER_UNAVAILABLE
    return TransientError(f"{type(exc).__name__}: {exc}", reason=reason)
