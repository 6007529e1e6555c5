"""`hub bench` still works end to end: one tiny run, as a person runs it, in a process of its own.

It asserts nothing about time (the benchmark is no test of speed): only that every scenario
ran, that the figures are there and consistent with what was asked, and that the broker and
the work folder it made are gone afterwards.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import hub_environment, run_hub

__all__: list[str] = []

pytestmark = [pytest.mark.slow]

_DOCUMENTS = 200
_RATE = 100


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench-results")
    result = run_hub(
        *("bench", "--documents", str(_DOCUMENTS), "--rate", str(_RATE)),
        *("--latency-seconds", "1", "--warmup-seconds", "0.5", "--step-sample", "40"),
        *("--output", str(out)),
        # The work folder (broker, hub data, logs) goes under the test's own temporary folder.
        env=hub_environment({"TMPDIR": str(tmp_path_factory.mktemp("bench-work"))}),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = out.glob("bench-*.json")
    return result.stdout, result.stderr, json.loads(report.read_text())


def test_every_scenario_ran_and_reported(bench_run: tuple[str, str, dict[str, Any]]) -> None:
    table, _, report = bench_run
    ran = {(t["contender"], t["processes"]) for t in report["throughput"]}
    assert ran == {("limit", 1), ("hub", 1), ("limit", 2), ("hub", 2)}
    assert set(report["hub_over_limit"]) == {"1", "2"}
    assert [r["contender"] for r in report["latency"]] == ["limit", "hub"]
    assert {s["name"].split(" ")[0] for s in report["steps"]} >= {"koda:", "sign", "verify"}
    for heading in ("Backlog, until fully processed", "Latency, publish → arrival", "Per step"):
        assert heading in table


def test_the_report_records_machine_versions_and_settings(
    bench_run: tuple[str, str, dict[str, Any]],
) -> None:
    _, _, report = bench_run
    assert {"cpu_model", "logical_cpus", "ram_bytes"} <= set(report["machine"])
    assert {"python", "kafka", "aiokafka", "faststream"} <= set(report["versions"])
    assert report["versions"]["kafka"] != "unknown"
    assert report["settings"]["documents"] == _DOCUMENTS
    assert report["command"].startswith("hub bench --documents 200")


def test_the_backlog_was_fully_processed_by_each(
    bench_run: tuple[str, str, dict[str, Any]],
) -> None:
    _, _, report = bench_run
    for run in report["throughput"]:
        assert run["documents"] == _DOCUMENTS, run
        assert run["seconds"] > 0
        assert run["peak_rss_bytes"] > 0
        assert [m["progress"] for m in run["rss_marks"]] == [0.1, 0.5, 1.0]
    hub = next(t for t in report["throughput"] if t["contender"] == "hub")
    invalid = round(_DOCUMENTS * 0.03)
    assert hub["outputs_by_topic"]["hub.events.v1"] >= _DOCUMENTS - invalid
    assert hub["outputs_by_topic"]["hub.dlq.v1"] >= invalid
    assert hub["outputs_by_topic"]["hub.audit.v1"] >= 2 * _DOCUMENTS
    limit = next(t for t in report["throughput"] if t["contender"] == "limit")
    assert limit["outputs_by_topic"] == {"bench.passthrough.v1": _DOCUMENTS}


def test_every_published_document_arrived_in_the_latency_run(
    bench_run: tuple[str, str, dict[str, Any]],
) -> None:
    _, _, report = bench_run
    limit, hub = report["latency"]
    (passthrough,) = limit["topics"]
    assert passthrough["records"] == limit["documents"] == _RATE
    by_topic = {s["topic"]: s for s in hub["topics"]}
    invalid = round(_RATE * 0.03)
    assert by_topic["hub.events.v1"]["records"] == _RATE - invalid
    assert by_topic["hub.dlq.v1"]["records"] >= invalid
    assert by_topic["hub.audit.v1"]["records"] == _RATE
    assert any(topic.startswith("out.") for topic in by_topic), "recipients are measured too"
    for stats in by_topic.values():
        assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]


def test_the_broker_and_the_work_folder_are_gone(
    bench_run: tuple[str, str, dict[str, Any]],
) -> None:
    _, progress, _ = bench_run
    found = re.search(r"work folder (\S+);", progress)
    assert found, progress
    work_dir = found.group(1)
    assert not Path(work_dir).exists()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        assert work_dir.encode() not in args
