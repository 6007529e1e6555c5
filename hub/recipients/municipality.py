"""The residence municipality: one topic per municipality, `out.municipality.<number>.v1`.

Its contract: the municipality must be one the register knows. A retired number (2020 and 2024
reforms) is followed to its successor, and the message says which number the event named; an
unknown number, or one that split, is a contract failure (`unknown_municipality`).
"""

from __future__ import annotations

from typing import Any

from hub.recipients.base import Place
from hub.reference.municipalities import MunicipalityRegister
from hub.routing.engine import lookup, residence_municipality
from hub.routing.policy import Rule
from schemas.errors import ContractViolation, Reason
from schemas.recipients import RecipientKind

__all__ = ["Municipality"]


class Municipality:
    kind = RecipientKind.MUNICIPALITY

    def __init__(self, register: MunicipalityRegister) -> None:
        self._register = register

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        given = residence_municipality(event["data"])
        if not given:
            raise ContractViolation(
                "a municipality message needs the residence municipality",
                reason=Reason.UNKNOWN_MUNICIPALITY,
            )
        resolved = self._register.resolve(given)
        number = resolved.current.code
        return Place(
            f"{self.kind.value}.{number}",
            {"municipality": number},
            f"{self.kind.value}.{given}" if resolved.redirected else None,
        )

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("the municipality needs the person's identity number")
