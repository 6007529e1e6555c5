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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.kafka.groups import Partition
from schemas.errors import TransientError

__all__ = ["Arrivals", "LatencyStats", "latency_stats"]

_FETCH_MAX_RECORDS = 2_000
_FETCH_WAIT_MS = 50
_CATCH_UP_TIMEOUT_S = 120.0


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
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        tag: str,
        start: Mapping[Partition, int],
        max_fetch_bytes: int,
    ) -> None:
        self._pattern = re.compile(re.escape(tag.encode()) + rb"-(\d+)(?!\d)")
        self._start = dict(start)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=_FETCH_WAIT_MS,
            max_partition_fetch_bytes=max_fetch_bytes,
        )
        # topic -> document number -> first arrival
        self.first: dict[str, dict[int, float]] = defaultdict(dict)
        # topic -> records read (matched or not)
        self.read: Counter[str] = Counter()
        self._ends: Mapping[Partition, int] | None = None

    def finish(self, ends: Mapping[Partition, int]) -> None:
        """Stop once every partition followed has been read up to `ends`."""
        self._ends = {p: end for p, end in ends.items() if p in self._start}

    async def __aenter__(self) -> Self:
        """Connect and take position at `start`, before the first document goes out."""
        try:
            await self._consumer.start()
            self._consumer.assign([TopicPartition(*p) for p in self._start])
            for partition, offset in self._start.items():
                self._consumer.seek(TopicPartition(*partition), offset)
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
        """Read until `finish` was called and its ends are reached."""
        try:
            await self._read(self._consumer)
        except KafkaError as exc:
            raise _transient(exc) from exc

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        deadline: float | None = None
        while True:
            batch = await consumer.getmany(
                timeout_ms=_FETCH_WAIT_MS * 2, max_records=_FETCH_MAX_RECORDS
            )
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    self._note(record, now)
            if self._ends is not None:
                deadline = deadline or now + _CATCH_UP_TIMEOUT_S
                if await self._reached(consumer, self._ends) or now > deadline:
                    return

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

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, ends: Mapping[Partition, int]) -> bool:
        for partition, end in ends.items():
            if await consumer.position(TopicPartition(*partition)) < end:
                return False
        return True


def _transient(exc: KafkaError) -> TransientError:
    return TransientError(f"reading arrivals: {type(exc).__name__}: {exc}")
