"""`hub bench`: the hub's throughput and latency, measured beside the raw Kafka limit.

Everything runs on the benchmark's own broker (`broker`): synthetic documents (`corpus`) are
published (`publish`) and worked off by the real hub (`hub run` processes) and by a plain
aiokafka pass-through (`passthrough`, the limit), each watched through /proc (`processes`,
`procfs`) until Kafka says it is done (`progress`, `hub.kafka.groups`); the latency run notes
arrivals per output topic (`latency`); the steps are also timed on their own (`steps`).
`run` runs the scenarios, `report` prints and writes the figures, `execute` is the whole of it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from hubdev.bench.broker import own_broker
from hubdev.bench.config import BenchConfig, BrokerHandle
from hubdev.bench.report import write_json
from hubdev.bench.results import BenchReport
from hubdev.bench.run import run_bench

__all__ = ["BenchConfig", "BenchReport", "BrokerHandle", "execute", "run_bench"]


def execute(
    config: BenchConfig, *, command: str, say: Callable[[str], None]
) -> tuple[BenchReport, Path]:
    """Run the benchmark on a broker of its own; the report and the JSON file it was written to.

    The work folder (broker data, hub data, process logs) is removed after a run that worked
    or was interrupted, and kept after one that failed, so its logs can be read.
    """
    work_dir = Path(tempfile.mkdtemp(prefix="justishub-bench-"))
    say(f"bench: work folder {work_dir}; starting a broker of its own")
    try:
        with own_broker(
            work_dir / "kafka", heap=config.broker_heap, timeout=config.start_timeout_s
        ) as broker:
            report = asyncio.run(
                run_bench(config, broker, work_dir=work_dir, command=command, say=say)
            )
    except KeyboardInterrupt:
        # Asked to stop: nothing to read in the logs of a run cut short.
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    path = write_json(report, config.results_dir)
    for profile in work_dir.glob("*.prof"):
        # For a closer look: `python -m pstats FILE`, or a viewer such as snakeviz.
        shutil.copyfile(profile, path.with_suffix(".prof"))
    shutil.rmtree(work_dir, ignore_errors=True)
    return report, path
