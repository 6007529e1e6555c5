"""The person the events are about: one topic, `out.person.v1`, read by the unit that hands the
notice over or by the national digital mailbox that delivers it.

Besides the facts of the event about the person themself, the message carries the notice in
plain Norwegian (`hub.recipients.notice`): what will happen, and which agency got what, as the
policy decides for each of them with the consent in force. Its contract: the person is named by
identity number (the mailbox delivers by it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from hub.recipients.base import Place
from hub.recipients.notice import compose_notice
from hub.reference import MunicipalityRegister, UnitRegister
from hub.routing.engine import lookup, residence_municipality
from hub.routing.policy import Policy, Rule
from schemas.errors import ContractViolation
from schemas.recipients import RecipientKind

__all__ = ["PersonRecipient"]


class PersonRecipient:
    kind = RecipientKind.PERSON

    def __init__(
        self, policy: Policy, municipalities: MunicipalityRegister, units: UnitRegister
    ) -> None:
        self._policy = policy
        self._municipalities = municipalities
        self._units = units

    def place(self, rule: Rule, event: dict[str, Any]) -> Place:
        return Place(self.kind.value)

    def check(self, data: dict[str, Any]) -> None:
        if not lookup(data, "person.identity_number"):
            raise ContractViolation("the notice to the person needs their identity number")

    def compose(
        self, rule: Rule, event: dict[str, Any], data: dict[str, Any], consents: Collection[str]
    ) -> dict[str, Any]:
        notice = compose_notice(
            self._policy, event, consents=consents, basis=rule.legal_basis, place=self._place
        )
        return {**data, "notice": notice}

    def _place(self, kind: RecipientKind, event: Mapping[str, Any]) -> str:
        """The name of where a recipient of `kind` is, for the person to read."""
        data = event["data"]
        if kind is RecipientKind.HEALTH:
            unit = lookup(data, "transfer.to_unit.code") or lookup(data, "unit.code")
            try:
                return self._units.health_region(str(unit))
            except ContractViolation:
                return "?"
        number = residence_municipality(data)
        if number is None:
            return "?"
        try:
            name = self._municipalities.resolve(number).current.name
        except ContractViolation:
            return number
        # The register gives every official form ("Oslo - Oslove"); the letter uses the first.
        return name.split(" - ")[0]
