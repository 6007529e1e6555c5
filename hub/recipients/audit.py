"""Putting the recipient stages' decisions on record: deliveries, refusals, receipts.

The stage's `after` hook (`audit_hook`) runs once the batch's outputs are acknowledged and
before its offsets are committed; it hands every decision the step noted on the input's
outcome (`Effects.notes`), with the position its message was stored at, to a `RecipientAudit`.
A contract failure is recorded as a refusal with its reason (the event itself went to the
dead-letter topic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeGuard

import structlog

from hub.audit.steps import outcome_facts, received_facts
from hub.audit.writer import AuditWriter
from hub.kafka.subscriber import OutcomeHook
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.runner import RecordOutcome
from hub.recipients.base import Decision, Note, ReceiptNote
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from schemas.errors import ContractViolation

__all__ = [
    "AuditItem",
    "LogAudit",
    "MemoryAudit",
    "RecipientAudit",
    "TrailAudit",
    "audit_hook",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One decision about one input, with the input's position."""

    stage: str
    input: Position
    note: Note


class RecipientAudit(Protocol):
    async def record(
        self,
        stage: str,
        outcomes: Sequence[RecordOutcome],
        items: Sequence[AuditItem],
        *,
        received: bool = True,
    ) -> None:
        """Put the batch and its decisions on record; return once safe (raise if not).
        `received=False`: the inputs were put on record as taken already (`taken`)."""
        ...

    async def taken(self, stage: str, records: Sequence[InboundRecord]) -> None:
        """Put on record that `stage` took `records` (for several stages that decide each);
        return once safe (raise if not)."""
        ...


class MemoryAudit:
    """Keeps every item, in order: for tests, and for a hub run without an audit trail."""

    def __init__(self) -> None:
        self.items: list[AuditItem] = []
        # (stage, position) of every input put on record as taken.
        self.taken_inputs: list[tuple[str, Position]] = []

    async def record(
        self,
        stage: str,
        outcomes: Sequence[RecordOutcome],
        items: Sequence[AuditItem],
        *,
        received: bool = True,
    ) -> None:
        self.items.extend(items)

    async def taken(self, stage: str, records: Sequence[InboundRecord]) -> None:
        self.taken_inputs.extend((stage, record.position) for record in records)


class LogAudit(MemoryAudit):
    """A `MemoryAudit` that also logs each item (identity numbers never reach it)."""

    async def record(
        self,
        stage: str,
        outcomes: Sequence[RecordOutcome],
        items: Sequence[AuditItem],
        *,
        received: bool = True,
    ) -> None:
        await super().record(stage, outcomes, items)
        for item in items:
            log.info("recipient.audit", stage=item.stage, **_fields(item.note))


def audit_hook(
    stage: str, kind: str, audit: RecipientAudit, *, received: bool = True
) -> OutcomeHook:
    """`received=False`: the stage's inputs are put on record as taken by the one pass that
    read them for every kind (`hub.recipients.fanout`), not once per kind."""

    async def after(outcomes: list[RecordOutcome]) -> None:
        items: list[AuditItem] = []
        for outcome in outcomes:
            if outcome.failure is not None:
                notes = _contract_refusal(kind, outcome)
            else:
                notes = [_stored(note, outcome) for note in outcome.notes if _is_note(note)]
            items += [AuditItem(stage, outcome.record.position, note) for note in notes]
        await audit.record(stage, outcomes, items, received=received)

    return after


def _is_note(note: object) -> TypeGuard[Note]:
    return isinstance(note, Decision | ReceiptNote)


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


class TrailAudit:
    """The recipient stages' records on the audit trail (`hub.audit.v1`).

    Per input: `received` (of the one pass over the events, once by `route`, not once per
    kind); per message for a recipient: `delivered` (recipient, rule, legal basis, the
    message's id and position, and the municipality number the event named when it was
    redirected to a successor); per refusal: `refused` with its reason; per accepted receipt:
    `receipt`; and for a failed input `verification_failed`/`rejected` and `dead_lettered`.
    State and alert records are the hub's own bookkeeping, not disclosures.
    """

    def __init__(self, writer: Callable[[], AuditWriter]) -> None:
        self._writer = writer

    async def record(
        self,
        stage: str,
        outcomes: Sequence[RecordOutcome],
        items: Sequence[AuditItem],
        *,
        received: bool = True,
    ) -> None:
        redirects = {
            item.note.message_id: item.note.redirected_from
            for item in items
            if isinstance(item.note, Decision) and item.note.redirected_from
        }
        facts: list[AuditFacts] = []
        for outcome in outcomes:
            for fact in outcome_facts(stage, _disclosures_only(outcome), received=received):
                moved = redirects.get(fact.delivered_id or "")
                facts.append(fact.model_copy(update={"redirected_from": moved}) if moved else fact)
        noted = (_note_facts(item) for item in items)
        facts += [fact for fact in noted if fact is not None]
        await self._writer().append(facts)

    async def taken(self, stage: str, records: Sequence[InboundRecord]) -> None:
        await self._writer().append(received_facts(stage, records))


def _disclosures_only(outcome: RecordOutcome) -> RecordOutcome:
    kept = tuple(
        d for d in outcome.deliveries if d.record.header(h.RECIPIENT) or d.record.header(h.DLQ_ID)
    )
    return dataclasses.replace(outcome, deliveries=kept)


def _note_facts(item: AuditItem) -> AuditFacts | None:
    note, where = item.note, _where(item.input)
    if isinstance(note, ReceiptNote):
        return AuditFacts(
            id=audit_id(AuditStep.RECEIPT, item.stage, str(item.input)),
            step=AuditStep.RECEIPT,
            stage=item.stage,
            input=where,
            subject=note.subject,
            message_id=note.canonical_id,
            recipient=note.recipient,
            delivered_id=note.message_id,
            receipt_status=note.status,
        )
    if note.delivered:
        return None  # recorded from the acknowledged message itself
    return AuditFacts(
        id=audit_id(AuditStep.REFUSED, item.stage, str(item.input), note.recipient),
        step=AuditStep.REFUSED,
        stage=item.stage,
        input=where,
        subject=note.subject or None,
        message_id=note.canonical_id,
        event_type=note.event_type or None,
        recipient=note.recipient,
        rule_id=note.rule_id,
        reason=note.reason,
    )


def _where(position: Position) -> Where:
    return Where(topic=position.topic, partition=position.partition, offset=position.offset)
