"""Child processes that end with the process that started them.

A benchmark, a chaos run or a test that crashes must not leave brokers or hubs behind: they
would go on using the machine's two cores (and retrying brokers that are gone) through every
later run. The kernel is asked to stop each child when its parent dies.
"""

from __future__ import annotations

import ctypes
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """For `subprocess.Popen(preexec_fn=...)`: runs in the child between fork and exec, and asks
    the kernel to send it SIGTERM when the thread that started it ends (Linux; elsewhere a no-op).

    Only a prctl call, which is safe between fork and exec even with threads around."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
