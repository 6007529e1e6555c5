"""Python's cyclic garbage collector, set for a long-running `hub run` process.

Left at its defaults, the collector took about 12 % of the hub's CPU under a backlog
(`hub bench`, 10,000 documents: 7 s of 56): every 700 allocations it scanned the young
objects, and every few hundred scans everything the process holds, including what start-up
made and keeps for good (modules, schemas, the policy, compiled XSDs). Both are settings here,
not in the library path: a test or tool that builds a hub keeps its own collector.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle", "tune"]

# Allocations between two scans of the young generation (CPython's default: 700). A batch of
# a few hundred records makes tens of thousands of short-lived objects; most are gone before
# a scan at this size, so each scan finds less to move on. Older generations keep their
# default ratios (10, 10).
YOUNG_THRESHOLD = 5_000


def tune() -> None:
    """Before the hub starts: scan the young generation less often."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def settle() -> None:
    """Once the hub runs: what start-up made is kept out of every later scan.

    Collected first, so no start-up garbage is kept for good with it."""
    gc.collect()
    gc.freeze()
