"""What a stage's batch puts on record: the audit facts of its acknowledged outcomes.

One function for every stage (`outcome_facts`). Per input: `received`; per output either
`published` (a hub message) or `delivered` (a message for a recipient: it carries
`hub-recipient`, `hub-rule-id` and `hub-legal-basis`); for a failed input, `rejected` (its
content was refused), `verification_failed` (its signature) or, at a recipient kind's stage,
`refused` (the recipient's contract), then `dead_lettered` with the dead-letter entry's
position. So, per stage: received = inputs, and dead_lettered = rejected + verification_failed +
other failures. The hub's own bookkeeping (delivery state, consent, alerts) is not a step of a
message and is not on record.

What else the step decided comes from its notes (`hub.audit.notes.AuditNote`): a refusal, an
accepted receipt, or what only the step knew of one of its outputs.

An input that carried `hub-*` headers the hub had not sealed (see `hub.pipeline.control`) adds
`headers_refused` after `received`, naming them: the attempt is on record, and nothing came of it.

Values copied from an input's headers were written by someone else: they go on record only when
they have the form the hub itself gives them, so nothing a publisher sends can put personal data
into the trail (or make a record invalid and stall the stage).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from typing import Any

from hub.audit.notes import AuditNote, where
from hub.audit.writer import AuditWriter
from hub.kafka.subscriber import OutcomeHook
from hub.pipeline import headers as h
from hub.pipeline.records import Delivery, InboundRecord, OutboundRecord
from hub.pipeline.runner import RecordOutcome
from hub.privacy import HIDDEN, mask_text, mask_token
from hub.settings import TopicSettings
from hub.signing.verifying import raw_header
from schemas.audit import AuditFacts, AuditStep, audit_id
from schemas.errors import ContractViolation, InputRejected, SignatureRejected
from schemas.signature import unverified_header

__all__ = ["UNTRUSTED_HEADERS", "audit_hook", "bookkeeping", "outcome_facts", "received_facts"]

# The reason of a `headers_refused` record: `hub-*` headers without the hub's seal.
UNTRUSTED_HEADERS = "untrusted_headers"

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")
_PERSON_KEY = re.compile(r"^pk-[0-9a-f]{32}$")
_HEADER_NAME = re.compile(r"^hub-[a-z-]{1,40}$")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,128}$")


def bookkeeping(topics: TopicSettings) -> frozenset[str]:
    """The topics of the hub's own state: what a stage writes there is no step of a message."""
    return frozenset({topics.deliveries, topics.consent, topics.alerts})


def audit_hook(
    writer: AuditWriter,
    stage: str,
    *,
    received: bool = True,
    recipient: str | None = None,
    unrecorded: Collection[str] = (),
) -> OutcomeHook:
    """The subscriber's `after` hook: the batch's records, acknowledged before its commit.
    The options are `outcome_facts`'s."""

    async def after(outcomes: list[RecordOutcome]) -> None:
        facts = [
            fact
            for outcome in outcomes
            for fact in outcome_facts(
                stage, outcome, received=received, recipient=recipient, unrecorded=unrecorded
            )
        ]
        await writer.append(facts)

    return after


def outcome_facts(
    stage: str,
    outcome: RecordOutcome,
    *,
    received: bool = True,
    recipient: str | None = None,
    unrecorded: Collection[str] = (),
) -> list[AuditFacts]:
    """The facts of one input's outcome.

    `received=False`: the input was put on record as taken by the stage that read it for
    several (`received_facts`). `recipient`: the recipient kind a stage decides for, whose
    contract's refusal is a `refused` record. `unrecorded`: topics of the hub's bookkeeping,
    whose records are not steps of a message."""
    record = outcome.record
    facts = [_received(stage, record)] if received else []
    if outcome.refused_headers:
        facts.append(_headers_refused(stage, record, outcome.refused_headers))
    if outcome.failure is None:
        outputs = [
            _output(stage, record, d)
            for d in outcome.deliveries
            if d.record.topic not in unrecorded
        ]
        notes = [note for note in outcome.notes if isinstance(note, AuditNote)]
        for note in notes:
            outputs = [note.amend(fact) for fact in outputs]
        facts += outputs
        noted = (note.fact(stage, record.position) for note in notes)
        facts += [fact for fact in noted if fact is not None]
        return facts
    error = outcome.failure.error
    reason = error.reason.value
    if isinstance(error, SignatureRejected):
        facts.append(_failed(AuditStep.VERIFICATION_FAILED, stage, record, reason))
    elif isinstance(error, InputRejected):
        facts.append(_failed(AuditStep.REJECTED, stage, record, reason))
    elif isinstance(error, ContractViolation) and recipient is not None:
        facts += _refused(stage, record, recipient, reason)
    facts += [_dead_lettered(stage, record, d, reason) for d in outcome.deliveries]
    return facts


def received_facts(stage: str, records: Sequence[InboundRecord]) -> list[AuditFacts]:
    """`received` for each of `records`, taken by `stage`."""
    return [_received(stage, record) for record in records]


def _received(stage: str, record: InboundRecord) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.RECEIVED, stage, str(record.position)),
        step=AuditStep.RECEIVED,
        stage=stage,
        input=where(record.position),
        message_id=_matching(record.header(h.EVENT_ID), _UUID),
        correlation_id=_source_id(record.header(h.CORRELATION_ID)),
    )


def _headers_refused(stage: str, record: InboundRecord, names: Sequence[str]) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.HEADERS_REFUSED, stage, str(record.position)),
        step=AuditStep.HEADERS_REFUSED,
        stage=stage,
        input=where(record.position),
        reason=UNTRUSTED_HEADERS,
        note=_header_names(names),
    )


def _header_names(names: Sequence[str]) -> str:
    """The names, as far as they have the form of the hub's own; the rest only counted."""
    shown = [name for name in names if _HEADER_NAME.fullmatch(name)][:10]
    others = len(names) - len(shown)
    return ", ".join(shown + ([f"{others} other(s)"] if others else []))


def _failed(step: AuditStep, stage: str, record: InboundRecord, reason: str) -> AuditFacts:
    kid = _claimed_kid(record.headers) if step is AuditStep.VERIFICATION_FAILED else None
    return AuditFacts(
        id=audit_id(step, stage, str(record.position)),
        step=step,
        stage=stage,
        input=where(record.position),
        reason=reason,
        message_id=_matching(record.header(h.EVENT_ID), _UUID),
        event_type=_matching(record.header(h.EVENT_TYPE), _EVENT_TYPE),
        kid=kid,
    )


def _refused(stage: str, record: InboundRecord, recipient: str, reason: str) -> list[AuditFacts]:
    """A recipient's contract refused the event: a refusal of that kind. Only of a canonical
    event (a refusal names the event); any other input's failure is on record by its
    `dead_lettered` record and reason alone."""
    message_id = _matching(record.header(h.EVENT_ID), _UUID)
    if message_id is None:
        return []
    fact = AuditFacts(
        id=audit_id(AuditStep.REFUSED, stage, str(record.position), recipient),
        step=AuditStep.REFUSED,
        stage=stage,
        input=where(record.position),
        subject=_matching(_text_key(record.key), _PERSON_KEY),
        message_id=message_id,
        event_type=_matching(record.header(h.EVENT_TYPE), _EVENT_TYPE),
        recipient=recipient,
        reason=reason,
    )
    return [fact]


def _dead_lettered(stage: str, record: InboundRecord, entry: Delivery, reason: str) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.DEAD_LETTERED, stage, str(record.position)),
        step=AuditStep.DEAD_LETTERED,
        stage=stage,
        input=where(record.position),
        output=where(entry.position),
        reason=reason,
        entry_id=_matching(entry.record.header(h.DLQ_ID), _UUID),
        message_id=_matching(record.header(h.EVENT_ID), _UUID),
        blocked_by=_matching(entry.record.header(h.DLQ_PARKED_BEHIND), _UUID),
    )


def _output(stage: str, record: InboundRecord, delivery: Delivery) -> AuditFacts:
    out = delivery.record
    recipient = out.header(h.RECIPIENT)
    step = AuditStep.DELIVERED if recipient else AuditStep.PUBLISHED
    own_id = _matching(out.header(h.EVENT_ID), _UUID)
    common: dict[str, Any] = {
        "step": step,
        "stage": stage,
        "input": where(record.position),
        "output": where(delivery.position),
        "subject": _subject(out),
        "event_type": _matching(out.header(h.EVENT_TYPE), _EVENT_TYPE),
        "correlation_id": _source_id(out.header(h.CORRELATION_ID)),
        "source_event_id": _source_id(out.header(h.SOURCE_EVENT_ID)),
        "kid": _claimed_kid(out.headers),
    }
    if step is AuditStep.PUBLISHED:
        key = audit_id(step, stage, str(record.position), out.topic, own_id or "")
        return AuditFacts(id=key, message_id=own_id, **common)
    # A delivery: the input is the canonical event, the output the recipient's own message.
    message_id = _matching(record.header(h.EVENT_ID), _UUID)
    key = audit_id(step, stage, str(record.position), out.topic, own_id or "")
    return AuditFacts(
        id=key,
        message_id=message_id,
        delivered_id=own_id,
        recipient=_token(recipient),
        rule_id=_token(out.header(h.RULE_ID)),
        legal_basis=_text(out.header(h.LEGAL_BASIS)),
        **common,
    )


def _subject(out: OutboundRecord) -> str | None:
    return _matching(_text_key(out.key), _PERSON_KEY)


def _text_key(key: bytes | None) -> str | None:
    return key.decode("ascii", errors="replace") if key else None


def _claimed_kid(headers: Sequence[tuple[str, bytes]]) -> str | None:
    try:
        kid = unverified_header(raw_header(tuple(headers), h.SIGNATURE)).get("kid")
    except SignatureRejected:
        return None
    return _token(kid) if isinstance(kid, str) else None


def _matching(value: str | None, pattern: re.Pattern[str]) -> str | None:
    return value if value is not None and pattern.fullmatch(value) else None


# The masking below costs more than all else in a fact, and a document's journey puts the same
# few values on record again and again: its ids, the rule, the legal basis, the signing key.
_remembered = functools.lru_cache(maxsize=4096)


@_remembered
def _token(value: str | None) -> str | None:
    if value is None:
        return None
    masked = mask_text(value)
    return masked if _TOKEN.fullmatch(masked) else None


@_remembered
def _source_id(value: str | None) -> str | None:
    # A source chose it: recorded only if it has the shape of an id, never a name.
    shown = mask_token(value) if value is not None else HIDDEN
    return None if shown == HIDDEN else _token(shown)


@_remembered
def _text(value: str | None) -> str | None:
    return mask_text(value)[:500] if value else None
