"""Children started for benchmarks, chaos runs and tests end with the process that started them,
even when it is SIGKILLed: no orphaned hub goes on using the cores of every later run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.support import process_ends

_HOLD_A_CHILD = """
import subprocess, sys
from hubdev.children import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         preexec_fn=die_with_parent if sys.argv[1] == "yes" else None)
print(child.pid, flush=True)
sys.stdin.read()
"""


def _orphan_of_a_killed_parent(die: str) -> int:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_CHILD, die],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        child = int(holder.stdout.readline())
        holder.send_signal(signal.SIGKILL)
    return child


def test_a_child_ends_when_its_parent_is_killed() -> None:
    assert process_ends(_orphan_of_a_killed_parent("yes"), within=10)


def test_without_it_the_child_outlives_its_parent() -> None:
    # What the test above would see if the call did nothing: the child lives on.
    orphan = _orphan_of_a_killed_parent("no")
    try:
        assert not process_ends(orphan, within=1)
    finally:
        os.kill(orphan, signal.SIGKILL)
