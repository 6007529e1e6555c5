"""Prometheus metrics of a running hub: one registry per hub, made at start-up, never global.

Labels name stages, reason codes, recipient kinds and consumer groups: bounded sets, and never
anything about a person.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hub.pipeline import headers as h
from hub.pipeline.records import Delivery
from hub.pipeline.runner import RecordOutcome

__all__ = ["HubMetrics"]

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
        self.retries = Counter(
            "hub_retries", "Transient failures a stage retried.", ["stage"], registry=r
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
        self.consumer_lag = Gauge(
            "hub_consumer_lag",
            "Records not yet committed by a consumer group.",
            ["group"],
            registry=r,
        )

    def batch_done(self, stage: str, outcomes: Sequence[RecordOutcome], seconds: float) -> None:
        self.batch_seconds.labels(stage).observe(seconds)
        self.records_in.labels(stage).inc(len(outcomes))
        now_ms = time.time() * 1000
        for outcome in outcomes:
            if outcome.failure is not None:
                self.dead_letters.labels(stage, outcome.failure.error.reason.value).inc()
            else:
                for delivery in outcome.deliveries:
                    self.records_out.labels(stage, _destination(delivery)).inc()
            if outcome.record.timestamp_ms:
                lag_s = max(0.0, (now_ms - outcome.record.timestamp_ms) / 1000)
                self.record_latency.labels(stage).observe(lag_s)

    def retried(self, stage: str) -> None:
        self.retries.labels(stage).inc()


def _destination(delivery: Delivery) -> str:
    recipient = delivery.record.header(h.RECIPIENT)
    if recipient:
        # "municipality.0301" → "municipality": one series per kind, not per place.
        return recipient.split(".", 1)[0]
    return delivery.record.topic.rsplit(".", 1)[0] if "." in delivery.record.topic else "other"
