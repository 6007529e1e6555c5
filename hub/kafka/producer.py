"""The hub's producer: idempotent, acks from all in-sync replicas, exact bytes and headers.

Writing goes through our own aiokafka producer rather than FastStream's publisher because a
dead-letter entry must carry the input's headers byte for byte, and FastStream's publish takes
header values as text. aiokafka's exceptions are translated here and go no further.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError

from hub.kafka.connection import KafkaConnection
from hub.pipeline.records import OutboundRecord, Position
from hub.settings import KafkaSettings
from schemas.errors import Reason, TransientError

__all__ = ["KafkaRecordSink", "build_producer", "transient"]


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
    )


class KafkaRecordSink:
    """`hub.pipeline.sink.RecordSink` on a started aiokafka producer."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        try:
            future = await self._producer.send(
                record.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
        except KafkaError as exc:
            raise transient(exc) from exc
        return _acknowledged(future)


async def _acknowledged(future: Awaitable[Any]) -> Position:
    try:
        metadata = await future
    except KafkaError as exc:
        raise transient(exc) from exc
    return Position(metadata.topic, metadata.partition, metadata.offset)


def transient(exc: KafkaError) -> TransientError:
    """aiokafka's error as ours: the broker may answer again in a moment."""
    reason = Reason.TIMEOUT if isinstance(exc, KafkaTimeoutError) else Reason.BROKER_UNAVAILABLE
    return TransientError(f"{type(exc).__name__}: {exc}", reason=reason)
