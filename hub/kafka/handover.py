"""One consumer group taking over from several on the same topic, without skipping a record.

The recipient stages once read the canonical events with a group per recipient kind; one group
(`<prefix>.route`) now reads them for every kind. At its first start, when it has committed
nothing, each partition's offset is set to the lowest the retired groups committed there: what
the faster ones had processed already is processed again, which the deterministic ids make
harmless, and nothing the slowest had not processed is skipped. A partition on which one of the
retired groups committed nothing is left alone, so the new group reads it from its first record,
as that group would have. Nothing happens when the new group has committed anything, or when no
retired group has (a new deployment).

aiokafka's exceptions stop here, translated into `TransientError`: the hub does not start rather
than start at the wrong place.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaError,
    UnknownMemberIdError,
)

from hub.kafka.connection import KafkaConnection
from hub.kafka.groups import Partition
from schemas.errors import TransientError

__all__ = ["Handover", "lowest", "take_over"]

log = structlog.get_logger(__name__)

_CLIENT_ID = "justishub-handover"
_RETRY_PAUSE_S = 0.5


@dataclass(frozen=True)
class Handover:
    """`group` reads `topic` in place of the `retired` groups."""

    group: str
    topic: str
    retired: tuple[str, ...]


async def take_over(
    connection: KafkaConnection,
    group: str,
    *,
    topic: str,
    retired: Sequence[str],
    timeout_s: float = 30.0,
) -> dict[Partition, int]:
    """Start `group` on `topic` where the slowest of `retired` stands; the offsets it set.

    Kafka's passing refusals (no group coordinator yet on a new cluster, one moving) are waited
    out for up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await _take_over(connection, group, topic=topic, retired=retired)
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise _transient(connection, exc) from exc
            log.info("group.take_over_retried", group=group, error=type(exc).__name__)
            await asyncio.sleep(_RETRY_PAUSE_S)


async def _take_over(
    connection: KafkaConnection, group: str, *, topic: str, retired: Sequence[str]
) -> dict[Partition, int]:
    admin = AIOKafkaAdminClient(**connection.aiokafka(), client_id=_CLIENT_ID)
    try:
        await admin.start()
        if await _committed(admin, group, None):
            return {}
        partitions = await _partitions(admin, topic)
        old = [await _committed(admin, g, partitions) for g in retired]
    finally:
        await admin.close()
    start = lowest(old, partitions)
    if not start:
        return {}
    try:
        await _commit(connection, group, start)
    except (CommitFailedError, IllegalGenerationError, UnknownMemberIdError):
        # Kafka takes such a commit only while the group has no member: another process of
        # the hub started it first, from these same offsets or from its own commits since.
        log.info("group.taken_over_elsewhere", group=group)
        return {}
    log.info("group.taken_over", group=group, retired=list(retired), partitions=len(start))
    return start


def lowest(
    old: Sequence[Mapping[Partition, int]], partitions: Sequence[Partition]
) -> dict[Partition, int]:
    """Per partition, the lowest offset every group of `old` that committed anything did."""
    known = [offsets for offsets in old if offsets]
    return {
        p: min(offsets[p] for offsets in known)
        for p in partitions
        if known and all(p in offsets for offsets in known)
    }


async def _committed(
    admin: AIOKafkaAdminClient, group: str, partitions: Sequence[Partition] | None
) -> dict[Partition, int]:
    wanted = [TopicPartition(*p) for p in partitions] if partitions is not None else None
    offsets = await admin.list_consumer_group_offsets(group, partitions=wanted)
    return {
        (tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0
    }


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[Partition]:
    found: list[Partition] = []
    for described in await admin.describe_topics([topic]):
        if described.get("error_code") == 0:
            found += [(topic, p["partition"]) for p in described.get("partitions") or []]
    return sorted(found)


async def _commit(connection: KafkaConnection, group: str, start: Mapping[Partition, int]) -> None:
    consumer = AIOKafkaConsumer(
        **connection.aiokafka(), client_id=_CLIENT_ID, group_id=group, enable_auto_commit=False
    )
    try:
        await consumer.start()
        consumer.assign([TopicPartition(*p) for p in start])
        await consumer.commit({TopicPartition(*p): offset for p, offset in start.items()})
    finally:
        await consumer.stop()


def _transient(connection: KafkaConnection, exc: KafkaError) -> TransientError:
    return TransientError(f"Kafka at {connection.bootstrap_servers}: {type(exc).__name__}: {exc}")
