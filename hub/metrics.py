"""Prometheus metrics of a running hub: one registry per hub, made at start-up, never global.

Labels name stages, reason codes, recipient kinds and consumer groups: bounded sets, and never
anything about a person.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hub.kafka.groups import GroupWatch
from hub.pipeline import headers as h
from hub.pipeline.records import Delivery
from hub.pipeline.runner import RecordOutcome
from schemas.errors import HubError

__all__ = [
    "HubMetrics",
    "StageCounts",
    "Throughput",
    "exported_names",
    "follow_audit",
    "follow_dead_letters",
    "follow_lag",
    "update_lag",
]

log = structlog.get_logger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class HubMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.records_in = Counter("hub_records_in", "Inputs a stage took.", ["stage"], registry=r)
        self.records_out = Counter(
            "hub_records_out",
            "Outputs a stage published and the broker acknowledged, by kind of destination.",
            ["stage", "destination"],
            registry=r,
        )
        self.dead_letters = Counter(
            "hub_dead_letters", "Inputs a stage dead-lettered.", ["stage", "reason"], registry=r
        )
        self.dead_letters_cut = Counter(
            "hub_dead_letters_cut",
            "Dead-letter entries too large for their topic, written cut short: alert on any.",
            ["stage"],
            registry=r,
        )
        self.retries = Counter(
            "hub_retries", "Transient failures a stage retried.", ["stage"], registry=r
        )
        self.rewinds = Counter(
            "hub_batches_rewound",
            "Batches not committed and consumed again, by cause: a stuck one counts up steadily.",
            ["stage", "reason"],
            registry=r,
        )
        self.state_rewritten = Counter(
            "hub_state_rewritten",
            "Keys of a compacted state topic written again because an older state followed "
            "the newest on the topic (a stalled old owner's late write), by state.",
            ["state"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "hub_batch_seconds",
            "Time to process a batch until every output was acknowledged.",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.record_latency = Histogram(
            "hub_record_latency_seconds",
            "From an input's broker timestamp to its outputs acknowledged.",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts = Counter(
            "hub_alerts",
            "Alert records a stage published (raised or resolved), by kind: the gaps included.",
            ["stage", "kind", "state"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "hub_consumer_lag",
            "Records not yet committed by a consumer group.",
            ["group"],
            registry=r,
        )
        self.receipts_overdue = Gauge(
            "hub_receipts_overdue",
            "Notices past their receipt deadline with no receipt yet, as this hub sees them.",
            registry=r,
        )
        self.dead_letters_open = Gauge(
            "hub_dead_letters_open",
            "Dead-letter entries no operator has replayed or discarded yet.",
            ["stage", "reason"],
            registry=r,
        )
        self.audit_intact = Gauge(
            "hub_audit_intact",
            "1 when this hub's last check of the whole audit trail found it intact, else 0.",
            registry=r,
        )
        self.audit_verified_at = Gauge(
            "hub_audit_verified_at_seconds",
            "When this hub last finished checking the whole audit trail (Unix time).",
            registry=r,
        )

    def batch_done(self, stage: str, outcomes: Sequence[RecordOutcome], seconds: float) -> None:
        self.batch_seconds.labels(stage).observe(seconds)
        self.records_in.labels(stage).inc(len(outcomes))
        now_ms = time.time() * 1000
        # Counted per batch, and each labelled child looked up once: every lookup takes a lock.
        out: defaultdict[str, int] = defaultdict(int)
        latency = self.record_latency.labels(stage)
        for outcome in outcomes:
            if outcome.failure is not None:
                self.dead_letters.labels(stage, outcome.failure.error.reason.value).inc()
                if any(d.record.header(h.DLQ_CUT) for d in outcome.deliveries):
                    self.dead_letters_cut.labels(stage).inc()
            else:
                for delivery in outcome.deliveries:
                    out[_destination(delivery)] += 1
                    self._count_alert(stage, delivery)
            if outcome.record.timestamp_ms:
                latency.observe(max(0.0, (now_ms - outcome.record.timestamp_ms) / 1000))
        for destination, count in out.items():
            self.records_out.labels(stage, destination).inc(count)

    def _count_alert(self, stage: str, delivery: Delivery) -> None:
        kind = delivery.record.header(h.ALERT_KIND)
        if kind:
            # Alerts are few: reading the state from the value costs nothing worth a header.
            state = json.loads(delivery.record.value or b"{}").get("state", "raised")
            self.alert(stage, kind, str(state))

    def alert(self, stage: str, kind: str, state: str) -> None:
        """An alert record published, by a stage or by the deadline watcher."""
        self.alerts.labels(stage, kind, state).inc()

    def retried(self, stage: str) -> None:
        self.retries.labels(stage).inc()

    def rewound(self, stage: str, reason: str) -> None:
        self.rewinds.labels(stage, reason).inc()

    def throughput(self) -> Throughput:
        """The counters since the hub started, per stage, and the last lag seen per group."""
        stages: defaultdict[str, StageCounts] = defaultdict(StageCounts)
        lag: dict[str, int] = {}
        for family in self.registry.collect():
            for sample in family.samples:
                labels, value = sample.labels, int(sample.value)
                if sample.name == "hub_consumer_lag":
                    lag[labels["group"]] = value
                elif sample.name.endswith("_total") and "stage" in labels:
                    _count(stages[labels["stage"]], sample.name, labels, value)
        return Throughput(dict(sorted(stages.items())), dict(sorted(lag.items())))


@dataclass
class StageCounts:
    records_in: int = 0
    retries: int = 0
    out: dict[str, int] = field(default_factory=dict)  # by kind of destination
    dead_letters: dict[str, int] = field(default_factory=dict)  # by reason code

    @property
    def records_out(self) -> int:
        return sum(self.out.values())

    @property
    def dead_lettered(self) -> int:
        return sum(self.dead_letters.values())


@dataclass(frozen=True)
class Throughput:
    stages: dict[str, StageCounts]
    lag: dict[str, int]


def _count(counts: StageCounts, name: str, labels: dict[str, str], value: int) -> None:
    if name == "hub_records_in_total":
        counts.records_in = value
    elif name == "hub_retries_total":
        counts.retries = value
    elif name == "hub_records_out_total":
        counts.out[labels["destination"]] = value
    elif name == "hub_dead_letters_total":
        counts.dead_letters[labels["reason"]] = value


async def update_lag(
    metrics: HubMetrics, watch: GroupWatch, prefix: str, *, retired: Collection[str] = ()
) -> None:
    """Set the lag gauge of every consumer group whose id starts with `prefix`, but `retired`."""
    for group in await watch.groups(prefix):
        if group.group_id not in retired:
            metrics.consumer_lag.labels(group.group_id).set(group.lag)


async def follow_lag(
    metrics: HubMetrics,
    watch: GroupWatch,
    prefix: str,
    every_s: float,
    *,
    retired: Collection[str] = (),
) -> None:
    """`update_lag` every `every_s` seconds until cancelled; a broker that does not answer
    leaves the last values in place until it does."""
    while True:
        try:
            await update_lag(metrics, watch, prefix, retired=retired)
        except HubError as exc:
            log.warning("metrics.lag_unavailable", reason=exc.reason.value)
        await asyncio.sleep(every_s)


async def follow_audit(
    metrics: HubMetrics, verify: Callable[[], Awaitable[bool]], every_s: float
) -> None:
    """Check the audit trail with `verify` (True: intact) every `every_s` seconds until
    cancelled; a check the broker does not answer leaves the last verdict and its time."""
    while True:
        try:
            intact = await verify()
        except HubError as exc:
            log.warning("metrics.audit_unverified", reason=exc.reason.value)
        else:
            metrics.audit_intact.set(1 if intact else 0)
            metrics.audit_verified_at.set_to_current_time()
        await asyncio.sleep(every_s)


async def follow_dead_letters(
    metrics: HubMetrics,
    count: Callable[[], Awaitable[Mapping[tuple[str, str], int]]],
    every_s: float,
) -> None:
    """Set the open dead-letter entries by (stage, reason) from `count` every `every_s`
    seconds until cancelled; a count the broker does not answer leaves the last values."""
    while True:
        try:
            counts = await count()
        except HubError as exc:
            log.warning("metrics.dead_letters_unavailable", reason=exc.reason.value)
        else:
            # Cleared first: a stage and reason with nothing open any more reads 0, not its past.
            metrics.dead_letters_open.clear()
            for (stage, reason), open_entries in counts.items():
                metrics.dead_letters_open.labels(stage, reason).set(open_entries)
        await asyncio.sleep(every_s)


# The series each kind of metric adds to its own name.
_SUFFIXES: Final = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}


def exported_names(registry: CollectorRegistry) -> frozenset[str]:
    """Every series name `registry` exports at /metrics, including those with no sample yet."""
    return frozenset(
        family.name + suffix
        for family in registry.collect()
        for suffix in _SUFFIXES.get(family.type, ("",))
    )


def _destination(delivery: Delivery) -> str:
    recipient = delivery.record.header(h.RECIPIENT)
    if recipient:
        # "municipality.0301" → "municipality": one series per kind, not per place.
        return recipient.split(".", 1)[0]
    return delivery.record.topic.rsplit(".", 1)[0] if "." in delivery.record.topic else "other"
