"""The police register (Kripos, SSP): one topic, `out.police-register.v1`.

Its contract: every message names the person by identity number, and the case.
"""

from __future__ import annotations

from typing import Any

from hub.recipients.base import Place
from hub.routing.engine import lookup
from hub.routing.policy import Rule
from schemas.errors import ContractViolation
from schemas.recipients import RecipientKind

__all__ = ["PoliceRegister"]


# The correctional case's number, the police's own case reference, or the court's case number.
_CASE_NUMBERS = ("case.case_number", "case_reference", "judgment.case_number")


class PoliceRegister:
    kind = RecipientKind.POLICE_REGISTER

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        return Place(self.kind.value)

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("the police register needs the person's identity number")
        if not any(lookup(data, path) for path in _CASE_NUMBERS):
            raise ContractViolation("the police register needs the case number")
