"""Consumer groups seen from outside: which groups a deployment runs, what they read, how far
behind they are. Read-only: nothing here joins a group or commits.

A group's lag on a partition is the partition's end offset minus the group's committed offset
(the partition's first offset when the group has committed none). Since every stage commits a
batch only after the broker has acknowledged all its outputs (see `hub.kafka.subscriber`),
lag 0 on every group of a deployment means that every input has been fully processed.

aiokafka's exceptions stop here, translated into `TransientError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata
from aiokafka.errors import KafkaError

from hub.kafka.connection import KafkaConnection
from schemas.errors import TransientError

__all__ = ["Expired", "GroupLag", "GroupWatch", "Partition"]

# (topic, partition): our own key type, so callers need no aiokafka import.
Partition = tuple[str, int]

_CLIENT_ID = "justishub-groups"
_STABLE = "Stable"


@dataclass(frozen=True)
class GroupLag:
    """One consumer group at one moment."""

    group_id: str
    # Kafka's group state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead.
    state: str
    members: int
    # What its members subscribe to, and what it has committed offsets for.
    topics: frozenset[str]
    committed: Mapping[Partition, int]
    lag_by_partition: Mapping[Partition, int]

    @property
    def lag(self) -> int:
        return sum(self.lag_by_partition.values())

    @property
    def caught_up(self) -> bool:
        """Running (stable, with members), reading something, and nothing left to read."""
        return self.state == _STABLE and self.members > 0 and bool(self.topics) and self.lag == 0

    def committed_on(self, topic: str) -> int:
        """Records of `topic` the group is done with (offsets summed over its partitions)."""
        return sum(offset for (t, _), offset in self.committed.items() if t == topic)


@dataclass(frozen=True)
class Expired:
    """A partition where a group's committed offset lies before the first record the topic
    still holds: retention deleted records the group never processed."""

    group_id: str
    topic: str
    partition: int
    committed: int
    log_start: int

    @property
    def skipped(self) -> int:
        return self.log_start - self.committed


class GroupWatch:
    """A long-lived admin client and offset reader, for asking about groups again and again."""

    def __init__(self, connection: KafkaConnection, *, request_timeout_ms: int = 15_000) -> None:
        self.connection = connection
        self.bootstrap_servers = connection.bootstrap_servers
        self._admin = AIOKafkaAdminClient(
            **connection.aiokafka(),
            client_id=_CLIENT_ID,
            request_timeout_ms=request_timeout_ms,
        )
        self._offsets = AIOKafkaConsumer(
            **connection.aiokafka(),
            client_id=_CLIENT_ID,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=request_timeout_ms,
        )
        self._partitions: dict[str, list[int]] = {}

    async def __aenter__(self) -> Self:
        try:
            await self._admin.start()
            await self._offsets.start()
        except KafkaError as exc:
            await self._close()
            raise self._transient(exc) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def topics(self) -> set[str]:
        """Every topic on the cluster but Kafka's internal ones."""
        try:
            names = await self._admin.list_topics()
        except KafkaError as exc:
            raise self._transient(exc) from exc
        return {name for name in names if not name.startswith("__")}

    async def end_offsets(self, topics: Iterable[str]) -> dict[Partition, int]:
        """The offset the next record of each partition of `topics` will get."""
        partitions = await self._topic_partitions(topics)
        try:
            ends = await self._offsets.end_offsets(partitions) if partitions else {}
        except KafkaError as exc:
            raise self._transient(exc) from exc
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def groups(self, prefix: str) -> list[GroupLag]:
        """Every consumer group whose id starts with `prefix`, with its lag, sorted by id."""
        try:
            listed = await self._admin.list_consumer_groups()
            ids = sorted({str(g[0]) for g in listed if str(g[0]).startswith(prefix)})
            return [await self._group(group_id) for group_id in ids]
        except KafkaError as exc:
            raise self._transient(exc) from exc

    async def expired(self, group_id: str, partitions: Iterable[Partition]) -> list[Expired]:
        """The partitions of `partitions` whose committed offset of `group_id` fell off the
        topic's retention (a partition without a committed offset has lost nothing)."""
        wanted = [TopicPartition(*p) for p in partitions]
        if not wanted:
            return []
        try:
            offsets = await self._admin.list_consumer_group_offsets(group_id, partitions=wanted)
            committed = {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in offsets.items()
                if meta.offset >= 0
            }
            starts = await self._first_offsets(sorted(committed))
        except KafkaError as exc:
            raise self._transient(exc) from exc
        return [
            Expired(group_id, topic, partition, offset, starts[(topic, partition)])
            for (topic, partition), offset in sorted(committed.items())
            if offset < starts.get((topic, partition), 0)
        ]

    async def _group(self, group_id: str) -> GroupLag:
        described = await self._admin.describe_consumer_groups([group_id])
        state, members, subscribed = _described(described, group_id)
        offsets = await self._admin.list_consumer_group_offsets(group_id)
        committed = {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in offsets.items()
            if meta.offset >= 0
        }
        topics = frozenset(subscribed | {topic for topic, _ in committed})
        ends = await self.end_offsets(topics)
        starts = await self._first_offsets([p for p in ends if p not in committed])
        lag = {p: max(0, end - committed.get(p, starts.get(p, 0))) for p, end in ends.items()}
        return GroupLag(group_id, state, members, topics, committed, lag)

    async def _first_offsets(self, partitions: list[Partition]) -> dict[Partition, int]:
        if not partitions:
            return {}
        firsts = await self._offsets.beginning_offsets([TopicPartition(*p) for p in partitions])
        return {(tp.topic, tp.partition): offset for tp, offset in firsts.items()}

    async def _topic_partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        unknown = sorted(set(topics) - set(self._partitions))
        if unknown:
            for described in await self._admin.describe_topics(unknown):
                if described.get("error_code") == 0:
                    numbers = sorted(p["partition"] for p in described.get("partitions") or [])
                    self._partitions[described["topic"]] = numbers
        return [
            TopicPartition(topic, number)
            for topic in sorted(set(topics))
            for number in self._partitions.get(topic, [])
        ]

    def _transient(self, exc: KafkaError) -> TransientError:
        return TransientError(f"Kafka at {self.bootstrap_servers}: {type(exc).__name__}: {exc}")

    async def _close(self) -> None:
        try:
            await self._offsets.stop()
        except asyncio.CancelledError:
            # aiokafka's coordinator lets the cancellation of its own start-up task out of
            # `stop()` when stopped right after starting; only this task's own is passed on.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        finally:
            await self._admin.close()


def _described(responses: Iterable[Any], group_id: str) -> tuple[str, int, set[str]]:
    """State, member count and subscribed topics of `group_id` in DescribeGroups responses."""
    for response in responses:
        for group in response.groups:
            error_code, name, state, protocol_type, *_ = group[:5]
            if name != group_id or error_code != 0:
                continue
            members = group[5]
            topics: set[str] = set()
            if protocol_type == "consumer":
                for member in members:
                    topics.update(_subscription(member[3]))
            return str(state), len(members), topics
    return "Dead", 0, set()


def _subscription(metadata: bytes) -> list[str]:
    try:
        return [
            str(topic) for topic in ConsumerProtocolMemberMetadata.decode(metadata).subscription
        ]
    except (ValueError, EOFError, IndexError):
        # A member of another client library may use a newer metadata version.
        return []
