"""Topics made on first use: one per municipality and per health region, with its receipts
topic. Never by the broker's auto-create: the sink asks for them explicitly, once each, before
the first record goes there, and remembers what exists."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping

import structlog

from hub.kafka.admin import TopicSpec, ensure_topics
from hub.kafka.connection import KafkaConnection
from hub.pipeline.records import OutboundRecord, Position
from hub.pipeline.sink import RecordSink
from schemas.errors import HubError, TransientError

__all__ = ["ProvisioningSink"]

log = structlog.get_logger(__name__)


class ProvisioningSink:
    """A `RecordSink` that makes a record's topic (and its companions) before the first send.

    `place_topics` maps a topic made on first use to every topic to make with it; the recipient
    stages fill it as they resolve places. Other topics are passed through as they are.
    """

    def __init__(
        self,
        inner: RecordSink,
        *,
        connection: KafkaConnection,
        place_topics: Mapping[str, tuple[str, ...]],
        partitions: int,
        replication_factor: int,
        config: Mapping[str, str],
    ) -> None:
        self._inner = inner
        self._connection = connection
        self._place_topics = place_topics
        self._partitions = partitions
        self._replicas = replication_factor
        self._config = dict(config)
        self._made: set[str] = set()

    async def send(self, record: OutboundRecord) -> Awaitable[Position]:
        wanted = self._place_topics.get(record.topic)
        if wanted and record.topic not in self._made:
            await self._make(wanted)
        return await self._inner.send(record)

    async def _make(self, names: tuple[str, ...]) -> None:
        specs = [TopicSpec(n, self._partitions, self._replicas, self._config) for n in names]
        try:
            created = await ensure_topics(self._connection, specs, timeout=30.0)
        except HubError as exc:
            # Not the message's fault: the batch is retried while an operator fixes the cause.
            raise TransientError(f"cannot make topics {', '.join(names)}: {exc}") from exc
        if created:
            log.info("topics.created", topics=created)
        self._made.update(names)
