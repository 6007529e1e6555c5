"""Where the hub's time goes: one extra backlog run of `hub run` under cProfile (`--profile`),
summarised as the functions with the most time of their own, and the project's functions with
the most time including what they call. cProfile slows Python code down unevenly: read the
shares, not the seconds, and never compare a profiled run's speed with an unprofiled one."""

from __future__ import annotations

import pstats
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Hotspot", "hotspots"]

_CHECKOUT = Path(__file__).resolve().parents[2]
_PROJECT = tuple(str(_CHECKOUT / package) + "/" for package in ("hub", "adapters", "schemas"))
# Entry points and wiring contain everything: listing them says nothing.
_WRAPPERS = tuple(str(_CHECKOUT / path) for path in ("hub/cli/", "hub/__main__.py"))
# The event loop waiting for the network: idle, not work.
_IDLE = "<method 'poll' of 'select.epoll' objects>"


@dataclass(frozen=True)
class Hotspot:
    function: str
    calls: int
    own_s: float
    cumulative_s: float
    # Of the busy time (all profiled time but the event loop's waiting): own time in the first
    # list, cumulative in the second.
    share: float


def hotspots(path: Path, *, top: int = 12) -> dict[str, list[Hotspot]]:
    """{"own_time": the `top` functions by own time, "project_cumulative": the `top` functions
    of this project by time including their callees}."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]  # documented, untyped
    rows = [
        (_name(where), entry[1], entry[2], entry[3], where[0])
        for where, entry in stats.items()
        if where[2] != _IDLE
    ]
    busy = sum(row[2] for row in rows) or 1.0
    by_own = sorted(rows, key=lambda row: row[2], reverse=True)[:top]
    ours = [row for row in rows if row[4].startswith(_PROJECT) and not row[4].startswith(_WRAPPERS)]
    by_cumulative = sorted(ours, key=lambda row: row[3], reverse=True)[:top]
    return {
        "own_time": [Hotspot(n, c, own, cum, own / busy) for n, c, own, cum, _ in by_own],
        "project_cumulative": [
            Hotspot(n, c, own, cum, cum / busy) for n, c, own, cum, _ in by_cumulative
        ],
    }


def _name(where: tuple[str, int, str]) -> str:
    file, line, function = where
    for marker in ("site-packages/", str(_CHECKOUT) + "/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{file}:{line}({function})"
