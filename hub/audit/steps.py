"""What a stage's batch puts on record: the audit facts of its acknowledged outcomes.

Per input: `received`; per output either `published` (a hub message) or `delivered` (a message
for a recipient: it carries `hub-recipient`, `hub-rule-id` and `hub-legal-basis`); for a failed
input, `rejected` (its content was refused) or `verification_failed` (its signature), then
`dead_lettered` with the dead-letter entry's position. So, per stage:
received = inputs, and dead_lettered = rejected + verification_failed + other failures.

An input that carried `hub-*` headers the hub had not sealed (see `hub.pipeline.control`) adds
`headers_refused` after `received`, naming them: the attempt is on record, and nothing came of it.

Values copied from an input's headers were written by someone else: they go on record only when
they have the form the hub itself gives them, so nothing a publisher sends can put personal data
into the trail (or make a record invalid and stall the stage).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from hub.audit.writer import AuditWriter
from hub.kafka.subscriber import OutcomeHook
from hub.pipeline import headers as h
from hub.pipeline.records import Delivery, InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import RecordOutcome
from hub.privacy import HIDDEN, mask_text, mask_token
from hub.signing.verifying import raw_header
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from schemas.errors import InputRejected, SignatureRejected
from schemas.signature import unverified_header

__all__ = ["UNTRUSTED_HEADERS", "Describe", "audit_hook", "outcome_facts", "received_facts"]

Describe = Callable[[str, RecordOutcome], list[AuditFacts]]

# The reason of a `headers_refused` record: `hub-*` headers without the hub's seal.
UNTRUSTED_HEADERS = "untrusted_headers"

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")
_PERSON_KEY = re.compile(r"^pk-[0-9a-f]{32}$")
_HEADER_NAME = re.compile(r"^hub-[a-z-]{1,40}$")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,128}$")


def audit_hook(writer: AuditWriter, stage: str, describe: Describe | None = None) -> OutcomeHook:
    """The subscriber's `after` hook: the batch's records, acknowledged before its commit."""
    facts_of = describe or outcome_facts

    async def after(outcomes: list[RecordOutcome]) -> None:
        await writer.append([f for outcome in outcomes for f in facts_of(stage, outcome)])

    return after


def outcome_facts(stage: str, outcome: RecordOutcome, *, received: bool = True) -> list[AuditFacts]:
    """The facts of one input's outcome; without `received` when the stage's input was put on
    record as taken by the stage that read it for several (`received_facts`)."""
    record = outcome.record
    facts = [_received(stage, record)] if received else []
    if outcome.refused_headers:
        facts.append(_headers_refused(stage, record, outcome.refused_headers))
    if outcome.failure is None:
        facts += [_output(stage, record, d) for d in outcome.deliveries]
        return facts
    error = outcome.failure.error
    reason = error.reason.value
    if isinstance(error, SignatureRejected):
        facts.append(_failed(AuditStep.VERIFICATION_FAILED, stage, record, reason))
    elif isinstance(error, InputRejected):
        facts.append(_failed(AuditStep.REJECTED, stage, record, reason))
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
        input=_where(record.position),
        message_id=_matching(record.header(h.EVENT_ID), _UUID),
        correlation_id=_source_id(record.header(h.CORRELATION_ID)),
    )


def _headers_refused(stage: str, record: InboundRecord, names: Sequence[str]) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.HEADERS_REFUSED, stage, str(record.position)),
        step=AuditStep.HEADERS_REFUSED,
        stage=stage,
        input=_where(record.position),
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
        input=_where(record.position),
        reason=reason,
        message_id=_matching(record.header(h.EVENT_ID), _UUID),
        event_type=_matching(record.header(h.EVENT_TYPE), _EVENT_TYPE),
        kid=kid,
    )


def _dead_lettered(stage: str, record: InboundRecord, entry: Delivery, reason: str) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.DEAD_LETTERED, stage, str(record.position)),
        step=AuditStep.DEAD_LETTERED,
        stage=stage,
        input=_where(record.position),
        output=_where(entry.position),
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
        "input": _where(record.position),
        "output": _where(delivery.position),
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


def _where(position: Position) -> Where:
    # Not validated again: a position is the broker's (a topic name, two counts).
    return Where.model_construct(
        topic=position.topic, partition=position.partition, offset=position.offset
    )


def _subject(out: OutboundRecord) -> str | None:
    key = out.key.decode("ascii", errors="replace") if out.key else None
    return _matching(key, _PERSON_KEY)


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
