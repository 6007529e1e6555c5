"""`hub bench`: measure the hub beside the raw Kafka limit, on a broker of its own."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from hub.cli.app import user_errors
from hub.logs import configure_logging
from hubdev.bench.config import BenchConfig

__all__ = ["register"]

_DEFAULT = BenchConfig()


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


@user_errors
def bench(
    documents: Annotated[
        int, typer.Option("--documents", "-n", min=1, help="Documents in the backlog.")
    ] = _DEFAULT.documents,
    invalid_percent: Annotated[
        float, typer.Option("--invalid-percent", min=0, max=100, help="Share of invalid ones.")
    ] = _DEFAULT.invalid_percent,
    rate: Annotated[
        float, typer.Option("--rate", min=1, help="Documents/s offered in the latency run.")
    ] = _DEFAULT.rate,
    latency_seconds: Annotated[
        float, typer.Option("--latency-seconds", min=0, help="Length of the latency run (0: none).")
    ] = _DEFAULT.latency_seconds,
    warmup_seconds: Annotated[
        float, typer.Option("--warmup-seconds", min=0, help="Published first, not counted.")
    ] = _DEFAULT.warmup_seconds,
    partitions: Annotated[int, typer.Option("--partitions", min=1)] = _DEFAULT.partitions,
    max_batch_records: Annotated[
        int | None,
        typer.Option(
            "--max-batch-records",
            min=1,
            help="Records a stage (and the limit) takes at once; default: the hub's setting.",
        ),
    ] = _DEFAULT.max_batch_records,
    scaling: Annotated[
        bool, typer.Option("--scaling/--no-scaling", help="Also run two processes of each.")
    ] = _DEFAULT.scaling,
    step_sample: Annotated[
        int, typer.Option("--step-sample", min=10, help="Documents each step is timed over.")
    ] = _DEFAULT.step_sample,
    memory_run: Annotated[
        bool,
        typer.Option(
            "--memory-run",
            help="Instead: one long backlog (see --memory-documents), memory at 10/50/100 %.",
        ),
    ] = False,
    memory_documents: Annotated[
        int, typer.Option("--memory-documents", min=10)
    ] = _DEFAULT.memory_documents,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile", help="Also run the hub under cProfile: where its time goes (slow)."
        ),
    ] = _DEFAULT.profile,
    profile_documents: Annotated[
        int, typer.Option("--profile-documents", min=10)
    ] = _DEFAULT.profile_documents,
    seed: Annotated[int, typer.Option("--seed")] = _DEFAULT.seed,
    output: Annotated[
        Path, typer.Option("--output", help="Folder for the JSON report.")
    ] = _DEFAULT.results_dir,
) -> None:
    """Throughput, latency, CPU and memory of the hub beside a raw Kafka pass-through.

    Starts a broker of its own (never yours), runs the real hub against it, prints a table and
    writes a JSON report. Not a test: it asserts nothing about time.
    """
    from hubdev.bench import execute
    from hubdev.bench.report import table

    config = BenchConfig(
        documents=documents,
        invalid_percent=invalid_percent,
        partitions=partitions,
        max_batch_records=max_batch_records,
        scaling=scaling,
        rate=rate,
        latency_seconds=latency_seconds,
        warmup_seconds=warmup_seconds,
        step_sample=step_sample,
        memory_run=memory_run,
        memory_documents=memory_documents,
        profile=profile,
        profile_documents=profile_documents,
        seed=seed,
        results_dir=output,
    )
    # SIGTERM (a CI job's timeout, `kill`) cleans up like Ctrl-C: children, broker, work folder.
    signal.signal(signal.SIGTERM, _interrupt)
    # The hub's own processes log to their files. Here, the steps timed in this process would
    # print their warnings (alerts about late notices, for one) between the progress lines.
    configure_logging(log_format="console", level="ERROR")
    command = shlex.join(["hub", "bench", *sys.argv[2:]])
    report, path = execute(config, command=command, say=lambda line: typer.echo(line, err=True))
    for line in table(report):
        typer.echo(line)
    typer.echo(f"\nreport: {path}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
