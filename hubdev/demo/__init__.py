"""Demo material: bundled sample documents and a deterministic generator of synthetic traffic.

Every identity number here is synthetic (month + 80 or + 40): none can belong to a real person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["COURT_SAMPLES", "KODA_SAMPLES", "POLICE_SAMPLES", "SAMPLES"]

# One document per file, a folder per source; names sort in publishing order (each person's
# events in turn).
SAMPLES: Final = Path(__file__).parent / "samples"
KODA_SAMPLES: Final = SAMPLES / "koda"
COURT_SAMPLES: Final = SAMPLES / "court"
POLICE_SAMPLES: Final = SAMPLES / "police"
