"""Demo material: bundled sample documents and a deterministic generator of synthetic traffic.

Every identity number here is synthetic (month + 80 or + 40): none can belong to a real person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["KODA_SAMPLES"]

# One KODA document per file; file names sort in publishing order (each person's events in turn).
KODA_SAMPLES: Final = Path(__file__).parent / "samples" / "koda"
