"""The receipts stage: recipients acknowledge messages on their own `receipts.<recipient>.v1`.

The topic says who sent it (each recipient may write only its own topic; ACLs hold that in
production). A receipt is accepted when it names a message the hub sent to that recipient; the
delivery entry then records the status, and the message's open alerts are resolved by a
`received` or `processed` receipt, while a `rejected` one raises `notice_rejected`. A receipt
the hub cannot accept is dead-lettered with its reason: `schema_violation`, `unknown_message`
(no such message, or none the hub can know yet) or `wrong_recipient` (sent to someone else).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from pydantic import ValidationError

from hub.pipeline.records import InboundRecord, OutboundRecord
from hub.pipeline.runner import Effects
from hub.recipients.alerts import alert_record, new_alert, resolved
from hub.recipients.base import ReceiptNote
from hub.routing.deliveries import DeliveryEntry, Receipted, StagedIndex, entry_record
from hub.routing.policy import PLACE_OF, Policy
from schemas.alerts import AlertKind
from schemas.errors import ContractViolation, InputRejected, Reason, TransientError
from schemas.recipients import Receipt, ReceiptStatus
from schemas.validation import describe_errors

__all__ = ["ReceiptTopics", "receipt_step"]

log = structlog.get_logger(__name__)

# No `{n}` counts: FastStream reads braces in a subscription pattern as its own placeholders.
_PLACE_PATTERN = {"municipality": "[0-9][0-9][0-9][0-9]", "region": "[a-z][a-z-]*"}
# A receipt may arrive a moment before the hub's own record of the message it names (the two
# are written in the same batch): within this time an unknown message is worth a retry.
_GRACE_S = 10.0


class ReceiptTopics:
    """Which recipient a receipts topic belongs to, from the policy's templates."""

    def __init__(self, policy: Policy, prefix: str) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for kind, spec in policy.recipients.items():
            place = PLACE_OF[kind]
            regex = re.escape(prefix + spec.receipts)
            if place:
                regex = regex.replace(re.escape(f"{{{place}}}"), f"({_PLACE_PATTERN[place]})")
            self._patterns.append((kind.value, re.compile(regex)))

    @property
    def pattern(self) -> str:
        """One regular expression for every receipts topic (the subscription's pattern)."""
        return "^(" + "|".join(p.pattern for _, p in self._patterns) + ")$"

    def recipient(self, topic: str) -> str | None:
        for kind, pattern in self._patterns:
            match = pattern.fullmatch(topic)
            if match:
                return f"{kind}.{match.group(1)}" if match.groups() else kind
        return None


@dataclass
class ReceiptContext:
    index: StagedIndex
    topics: ReceiptTopics
    deliveries_topic: str
    alerts_topic: str
    sign: Callable[[OutboundRecord], OutboundRecord]
    clock: Callable[[], dt.datetime]


def receipt_step(ctx: ReceiptContext) -> Callable[[InboundRecord], Effects]:
    def step(record: InboundRecord) -> Effects:
        now = ctx.clock()
        recipient = ctx.topics.recipient(record.position.topic)
        if recipient is None:
            raise InputRejected(f"{record.position.topic} is no recipient's receipts topic")
        receipt = _parsed(record)
        entry = _known(ctx.index, receipt, record, now)
        if entry.recipient != recipient:
            raise ContractViolation(
                f"message {receipt.messageid} was not sent to {recipient}",
                reason=Reason.WRONG_RECIPIENT,
            )
        outputs = _alerts(ctx, entry, receipt, now)
        kinds = _open_alerts(entry, receipt)
        updated = entry.changed(
            receipt=Receipted(
                required=entry.receipt.required, due=entry.receipt.due, status=receipt.status
            ),
            alerts=kinds,
        )
        ctx.index.stage(updated)
        note = ReceiptNote(
            recipient, entry.messageid, entry.canonicalid, entry.subject, receipt.status.value
        )
        log.info("receipt.accepted", recipient=recipient, message_id=entry.messageid)
        return Effects([entry_record(updated, ctx.deliveries_topic), *outputs], [note])

    return step


def _parsed(record: InboundRecord) -> Receipt:
    try:
        return Receipt.model_validate_json(record.value)
    except ValidationError as exc:
        raise InputRejected(f"not a valid receipt: {describe_errors(exc, shown=1)}") from exc


def _known(
    index: StagedIndex, receipt: Receipt, record: InboundRecord, now: dt.datetime
) -> DeliveryEntry:
    entry = index.get(receipt.messageid)
    if entry is not None:
        return entry
    age_s = now.timestamp() - record.timestamp_ms / 1000
    if record.timestamp_ms and age_s < _GRACE_S:
        raise TransientError(
            f"message {receipt.messageid} not known yet", reason=Reason.UNKNOWN_MESSAGE
        )
    raise ContractViolation(
        f"no message {receipt.messageid} was sent by the hub", reason=Reason.UNKNOWN_MESSAGE
    )


def _alerts(
    ctx: ReceiptContext, entry: DeliveryEntry, receipt: Receipt, now: dt.datetime
) -> list[OutboundRecord]:
    if receipt.status is ReceiptStatus.REJECTED:
        if AlertKind.NOTICE_REJECTED.value in entry.alerts:
            return []
        detail = f"{entry.recipient} rejected the message: {receipt.reason}"[:500]
        log.warning("alert.raised", kind="notice_rejected", recipient=entry.recipient)
        alert = new_alert(entry, AlertKind.NOTICE_REJECTED, detail, now)
        return [ctx.sign(alert_record(alert, ctx.alerts_topic))]
    records = []
    for kind in entry.alerts:
        alert = new_alert(entry, AlertKind(kind), "resolved by a receipt", entry.deliveredat)
        done = resolved(alert, f"receipt_{receipt.status.value}", now)
        log.info("alert.resolved", kind=kind, recipient=entry.recipient)
        records.append(ctx.sign(alert_record(done, ctx.alerts_topic)))
    return records


def _open_alerts(entry: DeliveryEntry, receipt: Receipt) -> tuple[str, ...]:
    if receipt.status is ReceiptStatus.REJECTED:
        return tuple(dict.fromkeys((*entry.alerts, AlertKind.NOTICE_REJECTED.value)))
    return ()
