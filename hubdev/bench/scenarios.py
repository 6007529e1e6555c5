"""The two kinds of measurement, each on one deployment of the benchmark's broker:

- `backlog`: the deployment's inbound topic holds documents already; start the consumer (the hub
  as `hub run` processes, or the pass-through limit) and time it until it has fully processed
  them, reading CPU, memory and output offsets at the start and at the end;
- `latency`: start the consumer, wait until its groups have formed, publish documents at a fixed
  rate, and time each one from its publish to its arrival on every output topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.kafka.admin import TopicSpec, ensure_topics
from hub.kafka.groups import GroupWatch, Partition
from hub.topics import replicas_of
from hubdev.bench import passthrough
from hubdev.bench.config import BrokerHandle
from hubdev.bench.corpus import SOURCE, Document
from hubdev.bench.deployment import Deployment
from hubdev.bench.latency import Arrivals, latency_stats
from hubdev.bench.processes import HUB_READY, Child, hub_command
from hubdev.bench.procfs import cpu_seconds
from hubdev.bench.progress import Snapshot, wait_processed, wait_settled
from hubdev.bench.publish import publish_paced, publisher
from hubdev.bench.results import LatencyResult, RssMark, Throughput

__all__ = [
    "HUB",
    "LIMIT",
    "PROFILED",
    "Bench",
    "backlog",
    "latency",
    "latency_result",
    "profile_path",
]

HUB = "hub"
LIMIT = "limit"
# The hub under cProfile: for `hubdev.bench.profile`, never for figures.
PROFILED = "hub-profiled"
PASSTHROUGH_TOPIC = "bench.passthrough.v1"
_MARKS = (0.1, 0.5, 1.0)


@dataclass(frozen=True)
class Bench:
    """What every scenario of one run shares."""

    run_id: str
    broker: BrokerHandle
    watch: GroupWatch
    work_dir: Path
    start_timeout_s: float
    # Where progress lines go (the terminal, or nowhere).
    say: Callable[[str], None]

    def tag(self, deployment: Deployment) -> str:
        return f"bench-{self.run_id}-{deployment.name}"


@dataclass(frozen=True)
class _Reading:
    """Offsets and CPU at one moment of a backlog run."""

    at: float
    inbound_done: int
    ends: dict[Partition, int]
    cpu_s: float
    broker_cpu_s: float


@dataclass(frozen=True)
class _Started:
    first_ready: float
    last_ready: float
    # Each child's CPU when it was ready (its start-up is not the work measured), summed.
    cpu_s: float
    # The broker's CPU when the first child was ready.
    broker_cpu_s: float


async def backlog(
    bench: Bench, dep: Deployment, contender: str, processes: int, documents: int
) -> Throughput:
    """Time `contender` working off the `documents` waiting on `dep`'s inbound topics.

    The clock runs from the moment the first process is ready to the moment the deployment
    has fully processed the backlog; outputs count from before the first process started.
    """
    children = await _children(bench, dep, contender, processes)
    before = await bench.watch.end_offsets(await _output_topics(bench, dep))
    spawned = time.monotonic()
    try:
        started = await _start(bench, children)
        marks: list[RssMark] = []
        readings: dict[float, _Reading] = {}

        async def note(current: Snapshot) -> None:
            # Listed again each time: a stage may make a topic on its first record for it.
            topics = await _output_topics(bench, dep)
            readings[current.at] = await _read(bench, children, topics, current)
            _mark(marks, current.inbound_done / documents, children)

        done = await wait_processed(
            bench.watch, dep.group_prefix, dep.inbound_topics, children=children, on_reading=note
        )
        peak = max(child.memory().peak_rss_bytes for child in children)
    finally:
        _stop(children)
    start = _Reading(started.first_ready, 0, before, started.cpu_s, started.broker_cpu_s)
    return _throughput(
        bench,
        dep,
        (start, readings[done.at]),
        contender=contender,
        processes=processes,
        peak_rss=peak,
        startup_s=started.last_ready - spawned,
        marks=marks,
    )


async def latency(
    bench: Bench, dep: Deployment, contender: str, documents: Sequence[Document], *, rate: float
) -> tuple[list[float], Arrivals]:
    """Publish `documents` at `rate` to a running `contender`; (publish times, arrivals)."""
    children = await _children(bench, dep, contender, 1)
    try:
        await _start(bench, children)
        await wait_settled(bench.watch, dep.group_prefix, dep.inbound_topics, children=children)
        arrivals = Arrivals(
            bench.watch,
            tag=bench.tag(dep),
            topics=lambda: _output_topics(bench, dep),
            max_fetch_bytes=dep.settings.kafka.max_record_bytes + 64 * 1024,
        )
        async with arrivals:
            sent_at = await _publish_and_follow(bench, dep, children, documents, rate, arrivals)
    finally:
        _stop(children)
    return sent_at, arrivals


def latency_result(
    bench: Bench,
    dep: Deployment,
    contender: str,
    sent_at: Sequence[float],
    arrivals: Arrivals,
    *,
    rate: float,
    warmup: int,
) -> LatencyResult:
    stats = []
    for topic, firsts in sorted(arrivals.first.items()):
        seconds = [t - sent_at[n] for n, t in firsts.items() if warmup <= n < len(sent_at)]
        # A rare recipient may have had only warm-up documents: nothing to measure there.
        if seconds:
            stats.append(latency_stats(_display(bench, dep, topic), seconds))
    unmatched = {
        _display(bench, dep, topic): count
        for topic, count in sorted(arrivals.read.items())
        if topic not in arrivals.first
    }
    span = sent_at[-1] - sent_at[0] if len(sent_at) > 1 else 0.0
    achieved = (len(sent_at) - 1) / span if span > 0 else 0.0
    return LatencyResult(contender, rate, achieved, len(sent_at) - warmup, warmup, stats, unmatched)


async def _publish_and_follow(
    bench: Bench,
    dep: Deployment,
    children: Sequence[Child],
    documents: Sequence[Document],
    rate: float,
    arrivals: Arrivals,
) -> list[float]:
    following = asyncio.create_task(arrivals.follow(), name="bench-arrivals")
    try:
        async with publisher(dep.settings) as sink:
            sent_at = await publish_paced(sink, dep.source_topic(SOURCE), documents, rate)
        await wait_processed(bench.watch, dep.group_prefix, dep.inbound_topics, children=children)
        arrivals.finish()
        await following
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    return sent_at


async def _children(bench: Bench, dep: Deployment, contender: str, processes: int) -> list[Child]:
    logs = bench.work_dir / "logs"
    if contender in (HUB, PROFILED):
        profile_to = profile_path(bench, dep) if contender == PROFILED else None
        command, marker = hub_command(profile_to=profile_to), HUB_READY
    else:
        out = await _passthrough_topic(bench, dep)
        group = f"{dep.group_prefix}passthrough"
        command = passthrough.command(topics=dep.inbound_topics, out_topic=out, group_id=group)
        marker = passthrough.READY
    return [
        Child(
            f"{contender} {dep.name} #{n + 1}",
            command,
            env=dep.environ(),
            log_path=logs / f"{dep.name}-{contender}-{n + 1}.log",
            ready_marker=marker,
        )
        for n in range(processes)
    ]


def profile_path(bench: Bench, dep: Deployment) -> Path:
    return bench.work_dir / f"{dep.name}.prof"


async def _passthrough_topic(bench: Bench, dep: Deployment) -> str:
    kafka = dep.settings.kafka
    name = f"{PASSTHROUGH_TOPIC}.{bench.tag(dep)}"
    spec = TopicSpec(name, kafka.partitions, replicas_of(dep.settings))
    await ensure_topics(dep.settings.kafka_connection(), [spec], timeout=30.0)
    return name


async def _start(bench: Bench, children: Sequence[Child]) -> _Started:
    """Start every child at once; return when all are ready."""
    broker_cpu: list[float] = []

    async def ready(child: Child) -> tuple[float, float]:
        at = await child.ready(bench.start_timeout_s)
        if not broker_cpu:
            broker_cpu.append(cpu_seconds(bench.broker.pid))
        return at, child.cpu_seconds()

    for child in children:
        child.start()
    readies = await asyncio.gather(*(ready(child) for child in children))
    times = [at for at, _ in readies]
    return _Started(min(times), max(times), sum(cpu for _, cpu in readies), broker_cpu[0])


def _stop(children: Sequence[Child]) -> None:
    for child in children:
        child.stop()


async def _output_topics(bench: Bench, dep: Deployment) -> list[str]:
    """Every topic this deployment may write: its own (named with its tag at either end), and
    those no deployment owns, but never its input or another deployment's."""
    own, everyone = bench.tag(dep), f"bench-{bench.run_id}-"
    inbound = set(dep.inbound_topics)
    return sorted(
        topic
        for topic in await bench.watch.topics()
        if topic not in inbound
        and (topic.endswith(f".{own}") or topic.startswith(f"{own}.") or everyone not in topic)
    )


async def _read(
    bench: Bench, children: Sequence[Child], topics: Sequence[str], current: Snapshot
) -> _Reading:
    cpu = sum(child.cpu_seconds() for child in children)
    broker_cpu = cpu_seconds(bench.broker.pid)
    ends = await bench.watch.end_offsets(topics)
    return _Reading(current.at, current.inbound_done, ends, cpu, broker_cpu)


def _mark(marks: list[RssMark], progress: float, children: Sequence[Child]) -> None:
    for share in _MARKS:
        if progress >= share and all(m.progress != share for m in marks):
            memories = [child.memory() for child in children]
            marks.append(
                RssMark(
                    share,
                    max(m.rss_bytes for m in memories),
                    max(m.peak_rss_bytes for m in memories),
                )
            )


def _throughput(
    bench: Bench,
    dep: Deployment,
    readings: tuple[_Reading, _Reading],
    *,
    contender: str,
    processes: int,
    peak_rss: int,
    startup_s: float,
    marks: list[RssMark],
) -> Throughput:
    start, end = readings
    seconds = end.at - start.at
    documents = end.inbound_done - start.inbound_done
    by_topic: dict[str, int] = {}
    for (topic, partition), offset in end.ends.items():
        name = _display(bench, dep, topic)
        by_topic[name] = by_topic.get(name, 0) + offset - start.ends.get((topic, partition), 0)
    by_topic = {name: count for name, count in sorted(by_topic.items()) if count}
    total = sum(by_topic.values())
    per_k = 1000 / documents if documents else 0.0
    return Throughput(
        contender=contender,
        processes=processes,
        documents=documents,
        seconds=seconds,
        documents_per_s=documents / seconds if seconds > 0 else 0.0,
        output_records=total,
        output_records_per_s=total / seconds if seconds > 0 else 0.0,
        outputs_by_topic=by_topic,
        cpu_s_per_1k_documents=(end.cpu_s - start.cpu_s) * per_k,
        broker_cpu_s_per_1k_documents=(end.broker_cpu_s - start.broker_cpu_s) * per_k,
        peak_rss_bytes=peak_rss,
        startup_s=startup_s,
        rss_marks=sorted(marks, key=lambda m: m.progress),
    )


def _display(bench: Bench, dep: Deployment, topic: str) -> str:
    """A topic's name without the deployment's tag: the name it has in a real deployment."""
    tag = bench.tag(dep)
    return topic.removesuffix(f".{tag}").removeprefix(f"{tag}.")
