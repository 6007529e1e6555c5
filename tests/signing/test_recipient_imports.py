"""A recipient verifies with `schemas.signature` alone: it pulls in none of the hub."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import schemas.signature
heavy = {"hub", "adapters", "pydantic", "faststream", "aiokafka", "lxml", "structlog"}
print(sorted({m.split(".")[0] for m in sys.modules} & heavy))
"""


def test_the_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, check=True, text=True
    )
    assert result.stdout.strip() == "[]"
