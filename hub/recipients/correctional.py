"""The correctional service's case system: one topic, `out.correctional.v1`.

It executes what the others report: a final judgment is queued for execution, a person in
remand custody is placed. Its contract: every message names the person by identity number, and
the court's case number or the police's case reference.
"""

from __future__ import annotations

from typing import Any

from hub.recipients.base import Place
from hub.routing.engine import lookup
from hub.routing.policy import Rule
from schemas.errors import ContractViolation
from schemas.recipients import RecipientKind

__all__ = ["Correctional"]

_CASE_NUMBERS = ("judgment.case_number", "case_reference")


class Correctional:
    kind = RecipientKind.CORRECTIONAL

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        return Place(self.kind.value)

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("the correctional service needs the person's identity number")
        if not any(lookup(data, path) for path in _CASE_NUMBERS):
            raise ContractViolation("the correctional service needs the case number")
