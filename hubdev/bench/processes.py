"""The benchmark's child processes (`hub run`, the pass-through): started, watched through /proc,
stopped. Each writes its output to a log file of its own; the kernel ends it if the benchmark
dies, so no child outlives a killed benchmark."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from hubdev.bench import procfs
from hubdev.children import die_with_parent
from schemas.errors import HubError, Reason

__all__ = ["HUB_READY", "BenchFailed", "Child", "hub_command"]

_POLL_S = 0.02
_STOP_TIMEOUT_S = 30.0
_TAIL_CHARS = 2000

# What `hub run` logs once every stage consumes.
HUB_READY = "hub.started"


class BenchFailed(HubError):
    """The benchmark could not measure: a process did not start, died, or stalled."""

    reason = Reason.INTERNAL_ERROR


def hub_command(*, profile_to: Path | None = None) -> list[str]:
    """`hub run`; under cProfile, writing its statistics to `profile_to` when it stops."""
    profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
    return [sys.executable, *profiler, "-m", "hub", "run"]


class Child:
    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        ready_marker: str,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._command = list(command)
        self._env = dict(env)
        self._marker = ready_marker.encode()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._proc.pid

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 -- our own Python command line, no shell
                self._command,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Out of reach of the terminal's Ctrl-C: the benchmark stops its children itself
                # (and reports the interruption, not a child that died under it).
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    async def ready(self, timeout_s: float) -> float:
        """Wait until the process says it is ready; return that moment (`time.monotonic()`)."""
        deadline = time.monotonic() + timeout_s
        while self._marker not in self.log_path.read_bytes():
            if not self.running() or time.monotonic() > deadline:
                raise self.failure("did not start")
            await asyncio.sleep(_POLL_S)
        return time.monotonic()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cpu_seconds(self) -> float:
        return procfs.cpu_seconds(self.pid)

    def memory(self) -> procfs.Memory:
        return procfs.memory(self.pid)

    def failure(self, what: str) -> BenchFailed:
        tail = (
            self.log_path.read_text(errors="replace")[-_TAIL_CHARS:]
            if self.log_path.exists()
            else ""
        )
        return BenchFailed(f"{self.name} {what} (log {self.log_path}):\n{tail}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not end in time; its exit status."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=_STOP_TIMEOUT_S)
        return self._proc.returncode
