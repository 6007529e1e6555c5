"""A benchmark report as a table for the terminal and as a JSON file for comparing runs."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

from hubdev.bench.results import BenchReport, LatencyResult, Throughput

__all__ = ["table", "write_json"]

_MIB = 1024 * 1024
_WIDTH = 100
_GIB = 1024 * _MIB
_NAMES = {"limit": "limit (raw pass-through)", "hub": "hub"}


def write_json(report: BenchReport, folder: Path) -> Path:
    """Write `report` to `folder/bench-<time>.json`; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = report.started_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"bench-{stamp}.json"
    path.write_text(json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False) + "\n")
    return path


def table(report: BenchReport) -> list[str]:
    """The report as lines for the terminal: its sections, a blank line between them."""
    sections = [
        list(_heading(report)),
        list(_throughput(report)),
        [*_latency(report.latency), *_latency_caveat(report)],
        list(_steps(report)),
        list(_profile(report)),
    ]
    lines: list[str] = []
    for section in filter(None, sections):
        lines += [*([""] if lines else []), *section]
    return lines


def _heading(report: BenchReport) -> Iterator[str]:
    s, m, v = report.settings, report.machine, report.versions
    kafka = s["hub_kafka"]
    yield (
        f"justishub bench: {s['documents']:,} {s['source']} documents "
        f"({s['invalid_percent']:g} % invalid), {s['partitions']} partitions, "
        f"batches of up to {kafka['max_batch_records']}, linger {kafka['linger_ms']} ms"
    )
    yield (
        f"machine: {m['cpu_model']}, {m['usable_cpus']} CPUs, {m['ram_bytes'] / _GIB:.1f} GiB, "
        f"{m['os']}, load {m['load_average_1m']:.2f} at the start, "
        f"{m['load_average_1m_at_end']:.2f} at the end"
    )
    yield (
        f"versions: Python {v['python']}, Kafka {v['kafka']}, aiokafka {v['aiokafka']}, "
        f"faststream {v['faststream']}, justishub {v['justishub']} ({v['git']})"
    )
    p = report.publish
    yield (
        f"backlog published in {p['seconds']:.1f} s ({p['documents_per_s']:,.0f} documents/s, "
        "acks=all, idempotent)"
    )


def _throughput(report: BenchReport) -> Iterator[str]:
    yield (
        f"{'Backlog, until fully processed':31} {'procs':>5} {'docs/s':>8} {'outputs/s':>9} "
        f"{'seconds':>8} {'CPU s/1k docs':>13} {'broker':>7} {'peak RSS':>9} {'start':>6}"
    )
    for t in report.throughput:
        yield (
            f"{_NAMES.get(t.contender, t.contender):31} {t.processes:>5} "
            f"{t.documents_per_s:>8,.0f} {t.output_records_per_s:>9,.0f} {t.seconds:>8.1f} "
            f"{t.cpu_s_per_1k_documents:>13.3f} {t.broker_cpu_s_per_1k_documents:>7.3f} "
            f"{t.peak_rss_bytes / _MIB:>5.0f} MiB {t.startup_s:>5.1f}s"
        )
    for processes, ratio in report.hub_over_limit.items():
        yield f"  hub / limit, {processes} process{'es' if processes != '1' else ''}: {ratio:.1%}"
    yield from _outputs(report.throughput)
    yield from _memory(report.throughput)


def _outputs(throughput: list[Throughput]) -> Iterator[str]:
    for t in throughput:
        if t.contender == "hub":
            per_doc = t.output_records / t.documents if t.documents else 0.0
            topics = ", ".join(f"{name} {count:,}" for name, count in t.outputs_by_topic.items())
            yield from textwrap.wrap(
                f"hub outputs ({t.processes} proc, {per_doc:.2f} per document): {topics}",
                width=_WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
            )


def _memory(throughput: list[Throughput]) -> Iterator[str]:
    for t in throughput:
        if t.rss_marks:
            marks = ", ".join(
                f"{m.progress:.0%} {m.rss_bytes / _MIB:.0f}/{m.peak_rss_bytes / _MIB:.0f}"
                for m in t.rss_marks
            )
            yield f"  RSS/peak MiB, {t.contender} ({t.processes} proc): {marks}"


def _latency(results: list[LatencyResult]) -> Iterator[str]:
    if not results:
        return
    first = results[0]
    yield (
        f"Latency, publish → arrival, ms: {first.offered_rate:,.0f} docs/s offered "
        f"(achieved {first.achieved_rate:,.0f}), {first.documents:,} documents after "
        f"{first.warmup_documents:,} warm-up"
    )
    yield f"{'':31} {'records':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}"
    for result in results:
        for s in result.topics:
            name = f"{result.contender} → {s.topic}"
            yield (
                f"{name:31} {s.records:>8,} {s.p50_ms:>7.1f} {s.p95_ms:>7.1f} "
                f"{s.p99_ms:>7.1f} {s.max_ms:>8.1f}"
            )
        for topic, count in result.unmatched_topics.items():
            yield f"{result.contender + ' → ' + topic:31} {count:>8,}  (no correlation id)"


def _latency_caveat(report: BenchReport) -> Iterator[str]:
    """A latency measured above the hub's throughput is the length of a queue, not of a path."""
    hub = next((t for t in report.throughput if (t.contender, t.processes) == ("hub", 1)), None)
    if hub is None or not report.latency or report.latency[0].offered_rate <= hub.documents_per_s:
        return
    yield (
        f"  note: {report.latency[0].offered_rate:,.0f} docs/s is more than the hub's backlog "
        f"throughput ({hub.documents_per_s:,.0f}/s): its latencies above are mostly queueing;"
    )
    yield "  a rate below that throughput (--rate) measures the path itself."


def _steps(report: BenchReport) -> Iterator[str]:
    if not report.steps:
        return
    sample = report.settings["step_sample"]
    yield f"Per step, in this process, µs per record (best of 3 over {sample:,} documents)"
    for step in report.steps:
        refused = f"  ({step.refused:,} of {step.records:,} refused)" if step.refused else ""
        yield f"  {step.name:60} {step.us_per_record:>8.1f}{refused}"
    hub = next((t for t in report.throughput if t.contender == "hub"), None)
    if hub and hub.documents:
        yield (
            f"  {'(hub process CPU per document, from the backlog run)':60} "
            f"{hub.cpu_s_per_1k_documents * 1000:>8.1f}"
        )


def _profile(report: BenchReport) -> Iterator[str]:
    if not report.profile:
        return
    count = report.settings["profile_documents"]
    yield f"Profile: hub under cProfile, {count:,} documents; shares of its busy time"
    titles = {"own_time": "own time", "project_cumulative": "this project's, with callees"}
    for key, title in titles.items():
        yield f"  by {title}:"
        for spot in report.profile.get(key, []):
            yield f"    {spot.share:>6.1%}  {spot.calls:>9,} calls  {spot.function}"
