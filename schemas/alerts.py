"""Alerts: what operators must act on, on `hub.alerts.v1` (compacted, keyed by alert id).

Lifecycle: an alert is `raised` once, and `resolved` once; each state change is a new record
with the same id, so the topic's last record per id is the alert's current state. Kinds:

    late_notice       a notice reached a recipient with less lead time than the policy requires
    receipt_overdue   a notice that needs a receipt had none by its deadline
    notice_rejected   the recipient answered a notice with a `rejected` receipt
    no_prior_notice   a release was completed with no planned-release notice to the
                      municipality before it (v2)
    no_municipality   a release or transfer was planned naming no residence municipality, so no
                      municipality could be told (v2; `messageid` is the canonical event's id)
    blocked_before_release
                      a dead letter for a person is still open within the policy's days of
                      their planned release (v2; on one of the release's messages); resolved
                      when the person is no longer blocked

Every kind tied to a message is resolved by a `received` or `processed` receipt for it, or when
the message is superseded (a correction, cancellation or withdrawal reached the same recipient);
`no_municipality` is resolved when a correction of the plan names a municipality.

Version 2 (`no.justishub.alert.v2`) adds the last two kinds: a consumer that knows only the
three kinds of version 1 would refuse them, so the type version changed (`schemas.compat`). The
v1 schema stays published for what is already on the topic.

On the same topic, `OperationsAlert` (type `no.justishub.operations-alert.v1`) is about the
hub's own operation and names where, never a person or a message:

    records_expired       a stage's consumer group had committed an offset that the topic's
                          retention has since passed: the records in between were never
                          processed
    dead_letter_expiring  a dead-letter entry that people's inputs are parked behind comes near
                          its topic's retention: replay or discard it before it is deleted
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.events.envelope import CanonicalId, PersonKey
from schemas.ids import name_based_id
from schemas.recipients.envelope import RecipientId, RuleId

__all__ = [
    "ALERT_TYPE",
    "ALERT_TYPE_V1",
    "OPERATIONS_ALERT_TYPE",
    "Alert",
    "AlertKind",
    "AlertState",
    "AlertV1",
    "OperationsAlert",
    "OperationsAlertKind",
    "alert_id",
]

ALERT_TYPE: Final = "no.justishub.alert.v2"
ALERT_TYPE_V1: Final = "no.justishub.alert.v1"
OPERATIONS_ALERT_TYPE: Final = "no.justishub.operations-alert.v1"
_ALERT_ID_NAMESPACE: Final = uuid.UUID("a6f1e0c4-3d52-4b7a-9e81-2c5f7d0b6e93")


class AlertKind(StrEnum):
    LATE_NOTICE = "late_notice"
    RECEIPT_OVERDUE = "receipt_overdue"
    NOTICE_REJECTED = "notice_rejected"
    NO_PRIOR_NOTICE = "no_prior_notice"
    NO_MUNICIPALITY = "no_municipality"
    BLOCKED_BEFORE_RELEASE = "blocked_before_release"


class _V1:
    # Named as it was released, so that its schema reads as it did.
    class AlertKind(StrEnum):
        LATE_NOTICE = "late_notice"
        RECEIPT_OVERDUE = "receipt_overdue"
        NOTICE_REJECTED = "notice_rejected"


class AlertState(StrEnum):
    RAISED = "raised"
    RESOLVED = "resolved"


class OperationsAlertKind(StrEnum):
    RECORDS_EXPIRED = "records_expired"
    DEAD_LETTER_EXPIRING = "dead_letter_expiring"


def alert_id(kind: AlertKind | OperationsAlertKind, message_id: str) -> str:
    """Deterministic: one alert of each kind per recipient message (for an operations alert:
    per what it is about), however often it is seen."""
    name = json.dumps([kind.value, message_id], separators=(",", ":"))
    return name_based_id(_ALERT_ID_NAMESPACE, name)


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: CanonicalId
    kind: AlertKind
    state: AlertState
    recipient: RecipientId
    messageid: CanonicalId
    canonicalid: CanonicalId
    subject: PersonKey
    rule: RuleId
    detail: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    raisedat: AwareDatetime
    due: AwareDatetime | None = None
    resolvedat: AwareDatetime | None = None
    resolution: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = None


# Version 1, as released: only for its published schema; the hub writes version 2.
class AlertV1(Alert):
    kind: _V1.AlertKind  # type: ignore[assignment]  # v1 allowed fewer kinds: a narrower type on purpose


# A Kafka topic or consumer group name.
_KafkaName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,249}$")]


class OperationsAlert(BaseModel):
    """An alert about the hub's own operation: where it is, what to do, never whom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: CanonicalId
    kind: OperationsAlertKind
    state: AlertState
    topic: _KafkaName
    partition: Annotated[int, Field(ge=0)]
    # records_expired: the consumer group that lost the records.
    group: _KafkaName | None = None
    # dead_letter_expiring: the entry, and how many inputs are parked behind it.
    entryid: CanonicalId | None = None
    parked: Annotated[int, Field(ge=0)] | None = None
    detail: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    raisedat: AwareDatetime
    # dead_letter_expiring: from when retention may delete the entry.
    due: AwareDatetime | None = None
    resolvedat: AwareDatetime | None = None
    resolution: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = None
