"""The register of correctional units: where each is, and which health region serves it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hub.reference._csv import ReferenceError, read_rows
from hub.reference.municipalities import MunicipalityRegister
from schemas.errors import ContractViolation, Reason

__all__ = ["HEALTH_REGIONS", "UnitRecord", "UnitRegister"]

_COLUMNS = ("code", "name", "municipality", "health_region")
_CODE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
# The four regional health authorities (regionale helseforetak), as topic-safe codes.
HEALTH_REGIONS = frozenset({"sor-ost", "vest", "midt", "nord"})


@dataclass(frozen=True, slots=True)
class UnitRecord:
    code: str
    name: str
    municipality: str | None
    health_region: str


class UnitRegister:
    def __init__(self, units: dict[str, UnitRecord]) -> None:
        self._units = units

    @classmethod
    def load(cls, path: Path, municipalities: MunicipalityRegister) -> UnitRegister:
        units: dict[str, UnitRecord] = {}
        for number, row in read_rows(path, _COLUMNS):
            unit = _unit(f"{path}:{number}", row, municipalities)
            if unit.code in units:
                raise ReferenceError(f"{path}:{number}: unit {unit.code} listed twice")
            units[unit.code] = unit
        return cls(units)

    def __len__(self) -> int:
        return len(self._units)

    def get(self, code: str) -> UnitRecord | None:
        return self._units.get(code)

    def health_region(self, code: str) -> str:
        """The health region serving unit `code`; `ContractViolation(unknown_unit)` if none."""
        unit = self._units.get(code)
        if unit is None:
            raise ContractViolation(
                f"unit {code} is not in the unit register", reason=Reason.UNKNOWN_UNIT
            )
        return unit.health_region


def _unit(where: str, row: dict[str, str], municipalities: MunicipalityRegister) -> UnitRecord:
    if not _CODE.fullmatch(row["code"]) or not row["name"]:
        raise ReferenceError(f"{where}: a unit needs a code (letters, digits, -) and a name")
    if row["health_region"] not in HEALTH_REGIONS:
        raise ReferenceError(
            f"{where}: health_region must be one of {', '.join(sorted(HEALTH_REGIONS))}"
        )
    municipality = row["municipality"] or None
    if municipality is not None:
        known = municipalities.get(municipality)
        if known is None or not known.current:
            raise ReferenceError(f"{where}: municipality {municipality} is not a current one")
    return UnitRecord(row["code"], row["name"], municipality, row["health_region"])
