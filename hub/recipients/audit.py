"""Putting the recipient stages' decisions on record: deliveries, refusals, receipts.

The stage's `after` hook (`audit_hook`) runs once the batch's outputs are acknowledged and
before its offsets are committed; it hands every decision, with the position its message was
stored at, to a `RecipientAudit`. A contract failure is recorded as a refusal with its reason
(the event itself went to the dead-letter topic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from hub.kafka.subscriber import OutcomeHook
from hub.pipeline import headers as h
from hub.pipeline.records import Position
from hub.pipeline.runner import RecordOutcome
from hub.recipients.base import Decision, Decisions, Note
from schemas.errors import ContractViolation

__all__ = ["AuditItem", "LogAudit", "MemoryAudit", "RecipientAudit", "audit_hook"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One decision about one input, with the input's position."""

    stage: str
    input: Position
    note: Note


class RecipientAudit(Protocol):
    async def record(self, items: Sequence[AuditItem]) -> None:
        """Put `items` on record; return once they are safe (raise if they are not)."""
        ...


class MemoryAudit:
    """Keeps every item, in order: for tests, and for a hub run without an audit trail."""

    def __init__(self) -> None:
        self.items: list[AuditItem] = []

    async def record(self, items: Sequence[AuditItem]) -> None:
        self.items.extend(items)


class LogAudit(MemoryAudit):
    """A `MemoryAudit` that also logs each item (identity numbers never reach it)."""

    async def record(self, items: Sequence[AuditItem]) -> None:
        await super().record(items)
        for item in items:
            log.info("recipient.audit", stage=item.stage, **_fields(item.note))


def audit_hook(stage: str, kind: str, decisions: Decisions, audit: RecipientAudit) -> OutcomeHook:
    async def after(outcomes: list[RecordOutcome]) -> None:
        items: list[AuditItem] = []
        for outcome in outcomes:
            position = outcome.record.position
            notes = decisions.pop(position)
            if outcome.failure is not None:
                notes = _contract_refusal(kind, outcome)
            else:
                notes = [_stored(note, outcome) for note in notes]
            items += [AuditItem(stage, position, note) for note in notes]
        await audit.record(items)

    return after


def _stored(note: Note, outcome: RecordOutcome) -> Note:
    if not isinstance(note, Decision) or not note.delivered:
        return note
    for delivery in outcome.deliveries:
        if delivery.record.header(h.EVENT_ID) == note.message_id:
            return dataclasses.replace(note, output=delivery.position)
    return note


def _contract_refusal(kind: str, outcome: RecordOutcome) -> list[Note]:
    failure = outcome.failure
    record = outcome.record
    if failure is None or not isinstance(failure.error, ContractViolation):
        return []
    return [
        Decision(
            delivered=False,
            canonical_id=record.header(h.EVENT_ID) or "",
            event_type=record.header(h.EVENT_TYPE) or "",
            subject=record.key.decode("ascii", errors="replace") if record.key else "",
            recipient=kind,
            reason=failure.error.reason.value,
        )
    ]


def _fields(note: Note) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(note).items() if v is not None}
