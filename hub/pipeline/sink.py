"""Where a stage's outbound records go: an interface, and a real in-memory implementation.

`send` hands a record over and returns at once with an awaitable of its position, so a stage can
put a whole batch in flight and then wait for every acknowledgement before it commits its input.
The Kafka implementation is `hub.kafka.producer.KafkaRecordSink`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from typing import Protocol

from hub.pipeline.records import OutboundRecord, Position
from schemas.errors import PermanentError, Reason, TransientError

__all__ = ["MemorySink", "RecordSink"]


class RecordSink(Protocol):
    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        """Queue `record`; the returned awaitable resolves once the broker has acknowledged it.

        Raises (or the awaitable raises) `schemas.errors.PermanentError` (`output_rejected`)
        when the broker will never take `record`, `schemas.errors.TransientError` when it cannot
        take it now.
        """
        ...


class MemorySink:
    """Keeps records per topic in order, with offsets; partition 0 unless a test says otherwise.

    `fail_next` makes the next n sends fail transiently, as a broker outage would; `limits`
    (topic → bytes of key, value and headers) refuses larger records for good, as a topic's
    `max.message.bytes` does.
    """

    def __init__(self) -> None:
        self.topics: dict[str, list[OutboundRecord]] = defaultdict(list)
        self.fail_next = 0
        self.limits: dict[str, int] = {}

    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("memory sink told to fail")
        size = len(record.key or b"") + len(record.value or b"")
        size += sum(len(k) + len(v) for k, v in record.headers)
        if size > self.limits.get(record.topic, size):
            raise PermanentError(f"{size} bytes for {record.topic}", reason=Reason.OUTPUT_REJECTED)
        log = self.topics[record.topic]
        log.append(record)
        done: asyncio.Future[Position] = asyncio.get_running_loop().create_future()
        done.set_result(Position(record.topic, 0, len(log) - 1))
        return done

    def values(self, topic: str) -> list[bytes]:
        return [r.value for r in self.topics.get(topic, []) if r.value is not None]
