"""The figures of a benchmark run: plain data, written to JSON as they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubdev.bench.latency import LatencyStats
from hubdev.bench.profile import Hotspot
from hubdev.bench.steps import StepCost

__all__ = ["BenchReport", "LatencyResult", "RssMark", "Throughput"]


@dataclass(frozen=True)
class RssMark:
    """A process's memory when the given share of the inbound documents was done."""

    progress: float
    rss_bytes: int
    peak_rss_bytes: int


@dataclass(frozen=True)
class Throughput:
    """One consumer ("hub" or "limit") working off a backlog.

    Measured from the moment all its processes are ready to the moment the deployment has
    fully processed the backlog (see `hubdev.bench.progress`); documents a first process did
    before the last was ready are not counted, and neither is its start-up.
    """

    contender: str
    processes: int
    documents: int
    seconds: float
    documents_per_s: float
    output_records: int
    output_records_per_s: float
    outputs_by_topic: dict[str, int]
    cpu_s_per_1k_documents: float
    broker_cpu_s_per_1k_documents: float
    peak_rss_bytes: int
    startup_s: float
    rss_marks: list[RssMark] = field(default_factory=list)


@dataclass(frozen=True)
class LatencyResult:
    contender: str
    offered_rate: float
    achieved_rate: float
    documents: int
    warmup_documents: int
    # Per output topic that named the documents' correlation ids.
    topics: list[LatencyStats]
    # Output topics whose records named no correlation id: topic -> records read.
    unmatched_topics: dict[str, int]


@dataclass(frozen=True)
class BenchReport:
    started_at: str
    command: str
    machine: dict[str, Any]
    versions: dict[str, str]
    settings: dict[str, Any]
    publish: dict[str, float]
    throughput: list[Throughput]
    # hub documents/s over limit documents/s, per number of processes ("1", "2").
    hub_over_limit: dict[str, float]
    latency: list[LatencyResult]
    steps: list[StepCost]
    # With --profile: see `hubdev.bench.profile.hotspots`.
    profile: dict[str, list[Hotspot]] = field(default_factory=dict)
    wall_seconds: float = 0.0
