"""Health services: one topic per regional health authority, `out.health.<region>.v1`.

The region is the one serving the unit the person goes to: the receiving unit of a transfer,
and the releasing unit of a release (whose health service holds the treatment to hand over).
Its contract: the unit must be one the unit register knows (`unknown_unit`).
"""

from __future__ import annotations

from typing import Any

from hub.recipients.base import Place
from hub.reference.units import UnitRegister
from hub.routing.engine import lookup
from hub.routing.policy import Rule
from schemas.errors import ContractViolation
from schemas.recipients import RecipientKind

__all__ = ["Health"]


class Health:
    kind = RecipientKind.HEALTH

    def __init__(self, units: UnitRegister) -> None:
        self._units = units

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        unit = lookup(event, "data.transfer.to_unit.code") or lookup(event, "data.unit.code")
        region = self._units.health_region(str(unit))
        return Place(f"{self.kind.value}.{region}", {"region": region})

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("health services need the person's identity number")
