"""NAV: one topic, `out.nav.v1`.

Its contract: every message names the person by identity number (NAV keys benefits by it) and
the date of what happened.
"""

from __future__ import annotations

from typing import Any

from hub.recipients.base import Place
from hub.routing.engine import lookup
from hub.routing.policy import Rule
from schemas.errors import ContractViolation
from schemas.recipients import RecipientKind

__all__ = ["Nav"]

_DATES = (
    "start.start_date",
    "transfer.date",
    "release.date",
    "custody.decided_at",
    "custody.ended_at",
)


class Nav:
    kind = RecipientKind.NAV

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        return Place(self.kind.value)

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("NAV needs the person's identity number")
        if not any(lookup(data, path) for path in _DATES):
            raise ContractViolation("NAV needs the date the person went in or came out")
