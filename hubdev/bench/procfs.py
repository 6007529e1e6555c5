"""What the benchmark reads about its processes and the machine: Linux's /proc, no dependency.

CPU time is user + system time of all of a process's threads (the broker's JVM included), in
seconds; memory is the resident set now (VmRSS) and its peak so far (VmHWM).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Memory", "cpu_seconds", "machine", "memory"]

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# Fields of /proc/<pid>/stat after the command name: state is 0, utime 11, stime 12.
_UTIME, _STIME = 11, 12
_KIB = 1024


@dataclass(frozen=True)
class Memory:
    rss_bytes: int
    peak_rss_bytes: int


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used so far."""
    # The command name is in parentheses and may itself hold spaces: split after its end.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS_PER_S


def memory(pid: int) -> Memory:
    status = _fields(Path(f"/proc/{pid}/status"))
    return Memory(_kib(status, "VmRSS") * _KIB, _kib(status, "VmHWM") * _KIB)


def machine() -> dict[str, Any]:
    """What a reader needs to compare runs on different machines."""
    meminfo = _fields(Path("/proc/meminfo"))
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "ram_bytes": _kib(meminfo, "MemTotal") * _KIB,
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1m": os.getloadavg()[0],
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _fields(path: Path) -> dict[str, str]:
    pairs = (line.partition(":") for line in path.read_text().splitlines())
    return {name.strip(): value.strip() for name, _, value in pairs}


def _kib(fields: dict[str, str], name: str) -> int:
    # "VmRSS:	  123456 kB"
    value = fields.get(name, "0 kB").split()
    return int(value[0]) if value else 0
