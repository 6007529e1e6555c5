"""Following a compacted state topic into an in-memory view (deliveries, parking).

One consumer without a group, assigned every partition, reading from the beginning: `start`
returns once the whole topic is in the view; a task then keeps it current. `catch_up` waits
until everything on the topic now has been read, which a stage awaits before each batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Final, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.kafka.admin import partition_count
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import unreachable
from hub.pipeline.records import InboundRecord

__all__ = ["AppliesRecords", "TopicFollower"]

log = structlog.get_logger(__name__)


class AppliesRecords(Protocol):
    def __len__(self) -> int: ...

    def apply_records(self, records: Iterable[InboundRecord]) -> int:
        """Take the records read from the topic, in order."""
        ...


_FETCH_MAX_WAIT_MS: Final = 20


class TopicFollower:
    def __init__(self, connection: KafkaConnection, topic: str, view: AppliesRecords) -> None:
        self._connection = connection
        self._topic = topic
        self.view = view
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()
        self._positions: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **self._connection.aiokafka(),
            enable_auto_commit=False,
            group_id=None,
            # `catch_up` asks this consumer for the end offsets before each batch of a stage,
            # and the broker answers one request per connection at a time: behind an idle
            # fetch's long poll (500 ms by default) that question waited half a second.
            fetch_max_wait_ms=_FETCH_MAX_WAIT_MS,
        )
        try:
            await consumer.start()
            count = await partition_count(self._connection, self._topic)
            partitions = [TopicPartition(self._topic, p) for p in range(count)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
        except KafkaError as exc:
            await consumer.stop()
            raise unreachable(self._connection, exc) from exc
        except BaseException:
            # A missing topic, or cancelled while starting: the consumer is closed all the same.
            await asyncio.shield(consumer.stop())
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._follow(), name=f"follow-{self._topic}")
        await self.catch_up()
        log.info("state.loaded", topic=self._topic, entries=len(self.view))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def catch_up(self) -> None:
        """Return once every record on the topic now is in the view."""
        consumer = self._require()
        try:
            ends = await consumer.end_offsets(list(consumer.assignment()))
        except KafkaError as exc:
            raise unreachable(self._connection, exc) from exc
        async with self._progress:
            await self._progress.wait_for(
                lambda: all(self._positions.get(tp, -1) >= end for tp, end in ends.items())
            )

    async def _follow(self) -> None:
        consumer = self._require()
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=200, max_records=2_000)
            except KafkaError as exc:
                log.warning("state.follow_paused", topic=self._topic, error=type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            records = [InboundRecord.from_consumer_record(r) for rs in batch.values() for r in rs]
            self.view.apply_records(records)
            for tp in consumer.assignment():
                self._positions[tp] = await consumer.position(tp)
            async with self._progress:
                self._progress.notify_all()

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError(f"the follower of {self._topic} is not started")
        return self._consumer
