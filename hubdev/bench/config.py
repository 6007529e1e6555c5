"""What a benchmark run is asked to do, and the broker it runs on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.kafka.connection import KafkaConnection

__all__ = ["BenchConfig", "BrokerHandle"]


@dataclass(frozen=True)
class BrokerHandle:
    """A running broker the benchmark may use: how to reach it (as its admin, the same TLS and
    SCRAM for the hub and the limit), and its pid for CPU readings."""

    connection: KafkaConnection
    pid: int

    @property
    def bootstrap_servers(self) -> str:
        return self.connection.bootstrap_servers


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    # The backlog: documents published before the consumer starts.
    documents: int = 100_000
    invalid_percent: float = 3.0
    partitions: int = 6
    # Records a stage (and the limit) takes at once; None: the hub's own default.
    max_batch_records: int | None = None
    # The same backlog with two processes of the hub (and of the limit).
    scaling: bool = True
    # The latency run: this many documents a second, for this long (after a warm-up whose
    # documents are published but not counted). 0 seconds: no latency run.
    rate: float = 1_000.0
    latency_seconds: float = 30.0
    warmup_seconds: float = 2.0
    # Documents each step is timed over, in this process.
    step_sample: int = 2_000
    # Instead of the above: one long backlog (limit and hub, one process each), with the
    # processes' memory at 10 %, 50 % and 100 % of it.
    memory_run: bool = False
    memory_documents: int = 1_000_000
    # One more backlog of this many documents through the hub under cProfile (slow): where the
    # hub's time goes, by function.
    profile: bool = False
    profile_documents: int = 20_000
    seed: int = 0
    broker_heap: str = "1g"
    start_timeout_s: float = 120.0
    results_dir: Path = Path("bench-results")

    @property
    def invalid_share(self) -> float:
        return self.invalid_percent / 100
