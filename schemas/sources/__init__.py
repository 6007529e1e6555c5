"""JSON Schemas of the JSON source formats the hub accepts. Paths only: validating is the
adapters' job. Publishers validate against the same files before they send."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["POLICE_CUSTODY_V1"]

_HERE: Final = Path(__file__).parent

POLICE_CUSTODY_V1: Final = _HERE / "police-custody-v1.schema.json"
