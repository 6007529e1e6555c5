"""Every topic the hub uses, with its partitions and retention. Created explicitly, never by
auto-create, so a typo in a topic name is an error instead of a new empty topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hub.kafka.admin import TopicSpec, TopicState
from hub.routing.policy import Policy
from hub.settings import HubSettings

__all__ = [
    "RECIPIENT_RETENTION_DAYS",
    "Severity",
    "TopicFinding",
    "catalogue",
    "check_topics",
    "place_topic_config",
    "recipient_catalogue",
    "replicas_of",
    "replication_config",
]

_DAY_MS = 24 * 60 * 60 * 1000
# Recipients read their topics within days; a month lets one recover from a long outage.
RECIPIENT_RETENTION_DAYS = 30


def catalogue(settings: HubSettings) -> list[TopicSpec]:
    kafka, topics = settings.kafka, settings.topics
    partitions, replicas = kafka.partitions, replicas_of(settings)

    def spec(
        name: str, retention_days: int | None, *, large: bool = False, compact: bool = False
    ) -> TopicSpec:
        retention = "-1" if retention_days is None else str(retention_days * _DAY_MS)
        config = {
            "cleanup.policy": "compact,delete" if compact else "delete",
            "retention.ms": retention,
            **replication_config(settings),
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
        # Each person's consent as it stands: kept until superseded, however old (a consent
        # given years ago holds until withdrawn or expired).
        spec(topics.consent, None, compact=True),
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
    config = place_topic_config(settings)
    return [
        TopicSpec(prefix + name, kafka.partitions, replicas_of(settings), config)
        for name in sorted(names)
    ]


def place_topic_config(settings: HubSettings) -> dict[str, str]:
    """Settings of the per-municipality and per-region topics made on first use."""
    return {
        "cleanup.policy": "delete",
        "retention.ms": str(RECIPIENT_RETENTION_DAYS * _DAY_MS),
        **replication_config(settings),
    }


def replicas_of(settings: HubSettings) -> int:
    """The replication factor the hub makes its topics with; -1: the cluster's default."""
    return settings.kafka.replication_factor or -1


def replication_config(settings: HubSettings) -> dict[str, str]:
    """Topic settings that keep acknowledged records: never elect a replica that missed some,
    and, where the hub chooses the replicas, how many must have a record before it counts."""
    config = {"unclean.leader.election.enable": "false"}
    replicas = settings.kafka.replication_factor
    if replicas is not None:
        config["min.insync.replicas"] = str(settings.kafka.needed_min_isr(replicas))
    return config


class Severity(StrEnum):
    # Risks data: the hub refuses to start.
    REFUSE = "refuse"
    # Worth a person's look, but nothing is lost by it.
    WARN = "warn"


@dataclass(frozen=True)
class TopicFinding:
    severity: Severity
    topic: str
    setting: str
    detail: str

    def line(self) -> str:
        return f"{self.severity.value}: topic {self.topic}: {self.setting}: {self.detail}"


def check_topics(
    settings: HubSettings,
    wanted: list[TopicSpec],
    found: dict[str, TopicState],
    brokers: int,
) -> list[TopicFinding]:
    """What is wrong with the cluster's topics for the hub, worst first: missing topics, too
    few replicas or in-sync replicas, unclean elections, a wrong cleanup policy or a shorter
    retention (which risk data), and fewer partitions or a smaller record limit (which do not)."""
    replicas = settings.kafka.needed_replicas(brokers)
    min_isr = settings.kafka.needed_min_isr(replicas)
    findings: list[TopicFinding] = []
    for spec in wanted:
        state = found.get(spec.name)
        if state is None:
            findings.append(TopicFinding(Severity.REFUSE, spec.name, "exists", "it does not"))
            continue
        findings += _check_topic(spec, state, replicas, min_isr)
    return sorted(findings, key=lambda f: (f.severity is not Severity.REFUSE, f.topic, f.setting))


def _check_topic(
    spec: TopicSpec, state: TopicState, replicas: int, min_isr: int
) -> list[TopicFinding]:
    config, name = state.config, spec.name
    out: list[TopicFinding] = []

    def finding(severity: Severity, setting: str, detail: str) -> None:
        out.append(TopicFinding(severity, name, setting, detail))

    if state.replication_factor < replicas:
        finding(Severity.REFUSE, "replication", f"{state.replication_factor}, needs {replicas}")
    isr = int(config.get("min.insync.replicas", "1"))
    if isr < min_isr:
        finding(Severity.REFUSE, "min.insync.replicas", f"{isr}, needs {min_isr}")
    if config.get("unclean.leader.election.enable") == "true":
        finding(Severity.REFUSE, "unclean.leader.election.enable", "true, must be false")
    wanted_policy = spec.config.get("cleanup.policy")
    if wanted_policy and _policies(config.get("cleanup.policy")) != _policies(wanted_policy):
        finding(
            Severity.REFUSE,
            "cleanup.policy",
            f"{config.get('cleanup.policy')}, needs {wanted_policy}",
        )
    _check_retention(spec, state, finding)
    if state.partitions < spec.partitions:
        finding(Severity.WARN, "partitions", f"{state.partitions}, the hub makes {spec.partitions}")
    return out


def _check_retention(
    spec: TopicSpec, state: TopicState, finding: Callable[[Severity, str, str], None]
) -> None:
    wanted = spec.config.get("retention.ms")
    have = state.config.get("retention.ms")
    if wanted is not None and have is not None:
        _compare_retention(wanted, have, finding)
    wanted_size = spec.config.get("max.message.bytes")
    have_size = state.config.get("max.message.bytes")
    if wanted_size and have_size and int(have_size) < int(wanted_size):
        finding(Severity.WARN, "max.message.bytes", f"{have_size}, the hub needs {wanted_size}")


def _compare_retention(
    wanted: str, have: str, finding: Callable[[Severity, str, str], None]
) -> None:
    if wanted == "-1" and have != "-1":
        finding(Severity.REFUSE, "retention.ms", f"{have}, must be -1 (kept forever)")
    elif have != "-1" and int(have) < int(wanted):
        finding(Severity.WARN, "retention.ms", f"{have}, shorter than the hub's {wanted}")


def _policies(value: str | None) -> frozenset[str]:
    return frozenset(p.strip() for p in (value or "delete").split(","))
