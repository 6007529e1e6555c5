"""Latency from source publish to arrival on each output topic.

Each published document carries a correlation id `<tag>-<number>` (a header the hub keeps on
every output: canonical events, dead-letter entries, and in the value of audit records and
recipient messages). `Arrivals` reads every output topic from where it stood before the first
document was published and notes, per topic, when the first record naming each document arrived
(`time.monotonic()` in this process, which also noted the publish time). A record is matched by
its header values first, then by its value, so an output of a stage added later is measured
as long as it names the correlation id somewhere.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.kafka.groups import GroupWatch, Partition
from schemas.errors import TransientError

__all__ = ["Arrivals", "LatencyStats", "latency_stats"]

_FETCH_MAX_RECORDS = 2_000
_FETCH_WAIT_MS = 50
_CATCH_UP_TIMEOUT_S = 120.0
# How often to look for topics made on first use while the run goes on.
_DISCOVER_S = 1.0


@dataclass(frozen=True)
class LatencyStats:
    topic: str
    records: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def latency_stats(topic: str, seconds: Sequence[float]) -> LatencyStats:
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        # Nearest rank: the smallest value with at least q of all values at or below it.
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0

    return LatencyStats(topic, len(ordered), rank(0.50), rank(0.95), rank(0.99), rank(1.0))


class Arrivals:
    """Follows the output topics of one deployment from where they stood on entry; topics a
    stage makes on first use are found every `_DISCOVER_S` and read from their beginning."""

    def __init__(
        self,
        watch: GroupWatch,
        *,
        tag: str,
        topics: Callable[[], Awaitable[list[str]]],
        max_fetch_bytes: int,
    ) -> None:
        self._watch = watch
        self._topics = topics
        self._pattern = re.compile(re.escape(tag.encode()) + rb"-(\d+)(?!\d)")
        self._consumer = AIOKafkaConsumer(
            **watch.connection.aiokafka(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=_FETCH_WAIT_MS,
            max_partition_fetch_bytes=max_fetch_bytes,
        )
        self._followed: set[str] = set()
        self._finishing = False
        # topic -> document number -> first arrival
        self.first: dict[str, dict[int, float]] = defaultdict(dict)
        # topic -> records read (matched or not)
        self.read: Counter[str] = Counter()

    def finish(self) -> None:
        """Stop once every topic followed has been read to its end (as it is then)."""
        self._finishing = True

    async def __aenter__(self) -> Self:
        """Connect and take position at the ends, before the first document goes out."""
        try:
            await self._consumer.start()
            await self._follow_new(at_end=True)
        except KafkaError as exc:
            await self._consumer.stop()
            raise _transient(exc) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    async def follow(self) -> None:
        """Read until `finish` was called and the ends are reached."""
        try:
            await self._read()
        except KafkaError as exc:
            raise _transient(exc) from exc

    async def _read(self) -> None:
        ends: Mapping[Partition, int] | None = None
        deadline, discovered = 0.0, time.monotonic()
        while True:
            batch = await self._consumer.getmany(
                timeout_ms=_FETCH_WAIT_MS * 2, max_records=_FETCH_MAX_RECORDS
            )
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    self._note(record, now)
            if ends is None and (self._finishing or now - discovered > _DISCOVER_S):
                await self._follow_new(at_end=False)
                discovered = now
                if self._finishing:
                    ends = await self._watch.end_offsets(self._followed)
                    deadline = now + _CATCH_UP_TIMEOUT_S
            if ends is not None and (await self._reached(ends) or now > deadline):
                return

    async def _follow_new(self, *, at_end: bool) -> None:
        """Add the topics not followed yet: from their end on entry, later from the start."""
        new = set(await self._topics()) - self._followed
        if not new:
            return
        starts = await self._watch.end_offsets(new)
        if not at_end:
            starts = dict.fromkeys(starts, 0)
        consumer = self._consumer
        kept = {tp: await consumer.position(tp) for tp in consumer.assignment()}
        consumer.assign([*kept, *(TopicPartition(*p) for p in starts)])
        for tp, offset in kept.items():
            consumer.seek(tp, offset)
        for partition, offset in starts.items():
            consumer.seek(TopicPartition(*partition), offset)
        self._followed |= new

    def _note(self, record: Any, now: float) -> None:
        self.read[record.topic] += 1
        number = self._number(record)
        if number is not None:
            self.first[record.topic].setdefault(number, now)

    def _number(self, record: Any) -> int | None:
        for _, value in record.headers:
            found = self._pattern.search(value or b"")
            if found:
                return int(found.group(1))
        found = self._pattern.search(record.value or b"")
        return int(found.group(1)) if found else None

    async def _reached(self, ends: Mapping[Partition, int]) -> bool:
        for partition, end in ends.items():
            if await self._consumer.position(TopicPartition(*partition)) < end:
                return False
        return True


def _transient(exc: KafkaError) -> TransientError:
    return TransientError(f"reading arrivals: {type(exc).__name__}: {exc}")
