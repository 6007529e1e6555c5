"""Every topic the hub uses, with its partitions and retention. Created explicitly, never by
auto-create, so a typo in a topic name is an error instead of a new empty topic."""

from __future__ import annotations

from hub.kafka.admin import TopicSpec
from hub.routing.policy import Policy
from hub.settings import HubSettings

__all__ = ["RECIPIENT_RETENTION_DAYS", "catalogue", "place_topic_config", "recipient_catalogue"]

_DAY_MS = 24 * 60 * 60 * 1000
# Recipients read their topics within days; a month lets one recover from a long outage.
RECIPIENT_RETENTION_DAYS = 30


def catalogue(settings: HubSettings) -> list[TopicSpec]:
    kafka, topics = settings.kafka, settings.topics
    partitions, replicas = kafka.partitions, kafka.replication_factor

    def spec(
        name: str, retention_days: int | None, *, large: bool = False, compact: bool = False
    ) -> TopicSpec:
        retention = "-1" if retention_days is None else str(retention_days * _DAY_MS)
        config = {
            "cleanup.policy": "compact,delete" if compact else "delete",
            "retention.ms": retention,
        }
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
        # Operators must have time to fix a cause and replay (`HUB_DLQ__RETENTION_DAYS`).
        spec(topics.dlq, settings.dlq.retention_days, large=True),
        # The audit trail is evidence: kept forever and never compacted (a compacted chain has
        # gaps). The checkpoints are kept apart, so a truncated trail still shows where it ended.
        spec(topics.audit, None),
        spec(topics.audit_checkpoints, None),
        # The state of every recipient message, one record per message (the last counts); kept
        # a good year, so receipts, corrections and cancellations can still find their message.
        spec(topics.deliveries, 400, compact=True),
        # Alerts: the last record per alert is its state; resolved ones stay a good year.
        spec(topics.alerts, 400, compact=True),
        # Operational state that must outlive any retention: kept until superseded.
        spec(topics.parking, None, compact=True),
        spec(topics.dlq_state, None, compact=True),
    ]


def recipient_catalogue(settings: HubSettings, policy: Policy) -> list[TopicSpec]:
    """The policy's recipient topics that name no place (per-place ones are made on first use)."""
    kafka, prefix = settings.kafka, settings.topics.recipient_prefix
    names = {rule.topic for rule in policy.rules if "{" not in rule.topic}
    names |= {spec.receipts for spec in policy.recipients.values() if "{" not in spec.receipts}
    config = {"cleanup.policy": "delete", "retention.ms": str(RECIPIENT_RETENTION_DAYS * _DAY_MS)}
    return [
        TopicSpec(prefix + name, kafka.partitions, kafka.replication_factor, config)
        for name in sorted(names)
    ]


def place_topic_config() -> dict[str, str]:
    """Settings of the per-municipality and per-region topics made on first use."""
    return {"cleanup.policy": "delete", "retention.ms": str(RECIPIENT_RETENTION_DAYS * _DAY_MS)}
