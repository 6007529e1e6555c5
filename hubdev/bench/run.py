"""One benchmark run: every scenario in turn on one broker, and the report of it all.

The order: the steps on their own (in this process, the broker idle); the backlog published
once and worked off by the limit, then the hub, as one process each, then as two; then the
latency runs at a fixed rate, limit first. With `memory_run`: one long backlog instead, limit
and hub, with memory readings along the way.
"""

from __future__ import annotations

import asyncio
import platform
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from hub.bootstrap import person_keys
from hub.kafka.admin import ensure_topics
from hub.kafka.groups import GroupWatch
from hub.sources import sources
from hub.topics import catalogue
from hubdev.bench.config import BenchConfig, BrokerHandle
from hubdev.bench.corpus import CHUNK, SOURCE, Document, chunks
from hubdev.bench.deployment import Deployment, deployment
from hubdev.bench.procfs import machine
from hubdev.bench.profile import Hotspot, hotspots
from hubdev.bench.publish import Published, publish_backlog, publisher
from hubdev.bench.results import BenchReport, LatencyResult, Throughput
from hubdev.bench.scenarios import (
    HUB,
    LIMIT,
    PROFILED,
    Bench,
    backlog,
    latency,
    latency_result,
    profile_path,
)
from hubdev.bench.steps import StepCost, measure_steps

__all__ = ["run_bench"]

_CHECKOUT = Path(__file__).resolve().parents[2]
_KAFKA_JAR = re.compile(r"^kafka_[0-9.]+-(?P<version>[0-9][^/]*)\.jar$")


async def run_bench(
    config: BenchConfig,
    broker: BrokerHandle,
    *,
    work_dir: Path,
    command: str,
    say: Callable[[str], None] = lambda _: None,
) -> BenchReport:
    started, started_at, at_start = time.monotonic(), datetime.now(UTC), machine()
    run_id = started_at.strftime("%H%M%S") + secrets.token_hex(2)
    async with GroupWatch(broker.connection) as watch:
        bench = Bench(run_id, broker, watch, work_dir, config.start_timeout_s, say)
        steps = [] if config.memory_run else await _steps(bench, config)
        published, throughput = await _backlogs(bench, config)
        latencies = await _latencies(bench, config)
        profile = await _profile(bench, config) if config.profile else {}
    return BenchReport(
        started_at=started_at.isoformat(timespec="seconds"),
        command=command,
        machine=at_start | {"load_average_1m_at_end": machine()["load_average_1m"]},
        versions=_versions(broker),
        settings=_settings(config, _deployment(bench, config, "settings")),
        publish={
            "documents": published.documents,
            "seconds": published.seconds,
            "documents_per_s": published.per_second,
        },
        throughput=throughput,
        hub_over_limit=_ratios(throughput),
        latency=latencies,
        steps=steps,
        profile=profile,
        wall_seconds=time.monotonic() - started,
    )


def _deployment(
    bench: Bench, config: BenchConfig, name: str, inbound_tag: str | None = None
) -> Deployment:
    return deployment(
        name,
        run_id=bench.run_id,
        connection=bench.broker.connection,
        data_dir=bench.work_dir / "data",
        partitions=config.partitions,
        inbound_tag=inbound_tag,
        max_batch_records=config.max_batch_records,
    )


async def _steps(bench: Bench, config: BenchConfig) -> list[StepCost]:
    dep = _deployment(bench, config, "steps")
    bench.say(f"bench: timing each step over {config.step_sample:,} documents")
    documents = next(
        _chunks(dep, config, config.step_sample, tag="steps", chunk=config.step_sample)
    )
    # A thread of its own: the runner's step is timed in an event loop of its own.
    return await asyncio.to_thread(measure_steps, dep.settings, documents)


async def _backlogs(bench: Bench, config: BenchConfig) -> tuple[Published, list[Throughput]]:
    shared = "memory" if config.memory_run else "backlog"
    count = config.memory_documents if config.memory_run else config.documents
    first = _deployment(bench, config, f"{LIMIT}-1", inbound_tag=shared)
    published = await _publish(bench, config, first, count, tag=shared)
    plan = [(LIMIT, 1), (HUB, 1)]
    if config.scaling and not config.memory_run:
        plan += [(LIMIT, 2), (HUB, 2)]
    results = []
    for contender, processes in plan:
        dep = _deployment(bench, config, f"{contender}-{processes}", inbound_tag=shared)
        bench.say(f"bench: {contender}, {processes} process(es), works off the backlog")
        results.append(await backlog(bench, dep, contender, processes, count))
    return published, results


async def _latencies(bench: Bench, config: BenchConfig) -> list[LatencyResult]:
    if config.memory_run or config.latency_seconds <= 0:
        return []
    warmup = round(config.rate * config.warmup_seconds)
    count = warmup + round(config.rate * config.latency_seconds)
    results = []
    for contender in (LIMIT, HUB):
        dep = _deployment(bench, config, f"latency-{contender}")
        bench.say(f"bench: {contender}, latency at {config.rate:,.0f} documents/s")
        await _create_inbound(dep)
        documents = [d for part in _chunks(dep, config, count, tag=bench.tag(dep)) for d in part]
        sent_at, arrivals = await latency(bench, dep, contender, documents, rate=config.rate)
        results.append(
            latency_result(
                bench, dep, contender, sent_at, arrivals, rate=config.rate, warmup=warmup
            )
        )
    return results


async def _profile(bench: Bench, config: BenchConfig) -> dict[str, list[Hotspot]]:
    if config.memory_run:
        return {}
    dep = _deployment(bench, config, "profile")
    count = min(config.profile_documents, config.documents)
    await _publish(bench, config, dep, count, tag="profile")
    bench.say("bench: hub under cProfile, for where its time goes")
    await backlog(bench, dep, PROFILED, 1, count)
    return hotspots(profile_path(bench, dep))


async def _publish(
    bench: Bench, config: BenchConfig, dep: Deployment, count: int, *, tag: str
) -> Published:
    await _create_inbound(dep)
    bench.say(f"bench: publishing {count:,} documents (the backlog)")
    async with publisher(dep.settings) as sink:
        parts = _chunks(dep, config, count, tag=f"bench-{bench.run_id}-{tag}")
        return await publish_backlog(sink, dep.source_topic(SOURCE), parts)


async def _create_inbound(dep: Deployment) -> None:
    """The inbound topics as the hub makes them, before the hub runs: the documents wait there."""
    inbound = set(dep.inbound_topics)
    specs = [spec for spec in catalogue(dep.settings) if spec.name in inbound]
    await ensure_topics(dep.settings.kafka_connection(), specs, timeout=30.0)


def _chunks(
    dep: Deployment, config: BenchConfig, count: int, *, tag: str, chunk: int = CHUNK
) -> Iterator[list[Document]]:
    source = sources(dep.settings)[SOURCE]
    return chunks(
        count,
        source=SOURCE,
        invalid_share=config.invalid_share,
        seed=config.seed,
        person_key=person_keys(dep.settings),
        content_type=source.content_type,
        tag=tag,
        chunk=chunk,
    )


def _ratios(throughput: list[Throughput]) -> dict[str, float]:
    rates = {(t.contender, t.processes): t.documents_per_s for t in throughput}
    return {
        str(n): rates[(HUB, n)] / rates[(LIMIT, n)]
        for (contender, n) in rates
        if contender == HUB and rates.get((LIMIT, n))
    }


def _settings(config: BenchConfig, dep: Deployment) -> dict[str, Any]:
    kafka = dep.settings.kafka.model_dump(
        exclude={
            "bootstrap_servers",
            "client_id",
            "group_prefix",
            "username",
            "password",
            "password_file",
            "ca_file",
        },
        mode="json",
    )
    return {
        "documents": config.memory_documents if config.memory_run else config.documents,
        "invalid_percent": config.invalid_percent,
        "source": SOURCE,
        "partitions": config.partitions,
        "scaling": config.scaling and not config.memory_run,
        "memory_run": config.memory_run,
        "latency_rate": config.rate,
        "latency_seconds": config.latency_seconds,
        "warmup_seconds": config.warmup_seconds,
        "step_sample": config.step_sample,
        "seed": config.seed,
        "profile_documents": min(config.profile_documents, config.documents)
        if config.profile
        else 0,
        "broker_heap": config.broker_heap,
        "hub_kafka": kafka,
        "producer": "hub.kafka.producer.build_producer: acks=all, idempotent, for hub and limit",
        "audit": dep.settings.audit.model_dump(mode="json"),
    }


def _versions(broker: BrokerHandle) -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "kafka": _kafka_version(broker.pid),
        "aiokafka": metadata.version("aiokafka"),
        "faststream": metadata.version("faststream"),
        "justishub": metadata.version("justishub"),
        "git": _git_describe(),
    }


def _kafka_version(pid: int) -> str:
    """The broker's version, from the jar its command line runs (what ran, not what was asked)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        classpath = args[args.index(b"-cp") + 1].decode()
    except (OSError, ValueError, IndexError):
        return "unknown"
    for jar in sorted(Path(classpath.removesuffix("*")).glob("kafka_*.jar")):
        if found := _KAFKA_JAR.match(jar.name):
            return found.group("version")
    return "unknown"


def _git_describe() -> str:
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 -- git from PATH, like a person
            cwd=_CHECKOUT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() or "unknown"
