"""Every topic the hub uses, with its partitions and retention. Created explicitly, never by
auto-create, so a typo in a topic name is an error instead of a new empty topic."""

from __future__ import annotations

from hub.kafka.admin import TopicSpec
from hub.settings import HubSettings

__all__ = ["catalogue"]

_DAY_MS = 24 * 60 * 60 * 1000


def catalogue(settings: HubSettings) -> list[TopicSpec]:
    kafka, topics = settings.kafka, settings.topics
    partitions, replicas = kafka.partitions, kafka.replication_factor

    def spec(name: str, retention_days: int | None, *, large: bool = False) -> TopicSpec:
        retention = "-1" if retention_days is None else str(retention_days * _DAY_MS)
        config = {"cleanup.policy": "delete", "retention.ms": retention}
        if large:
            # Oversized documents must arrive (to be dead-lettered as too_large), not bounce.
            config["max.message.bytes"] = str(kafka.max_record_bytes + 64 * 1024)
        return TopicSpec(name, partitions, replicas, config)

    return [
        # Inbound documents are replayable from the source for a week.
        spec(topics.in_koda, 7, large=True),
        spec(topics.in_court, 7, large=True),
        spec(topics.in_police, 7, large=True),
        spec(topics.events, 30),
        # Operators must have time to fix a cause and replay.
        spec(topics.dlq, 90, large=True),
        # The audit trail is evidence: kept forever and never compacted (a compacted chain has
        # gaps). The checkpoints are kept apart, so a truncated trail still shows where it ended.
        spec(topics.audit, None),
        spec(topics.audit_checkpoints, None),
    ]
