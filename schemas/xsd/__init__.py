"""XSDs of the source formats the hub accepts. Paths only: compiling is the adapters' job."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["DOMSTOL_RETTSKRAFTIG_DOM_V1", "KODA_HENDELSE_V1"]

_HERE: Final = Path(__file__).parent

KODA_HENDELSE_V1: Final = _HERE / "koda-hendelse-v1.xsd"
DOMSTOL_RETTSKRAFTIG_DOM_V1: Final = _HERE / "domstol-rettskraftig-dom-v1.xsd"
