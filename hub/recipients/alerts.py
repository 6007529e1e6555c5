"""Alerts on `hub.alerts.v1`: built here, raised by the stages, the deadline watcher, the
retention guard of the consumer groups and the dead-letter watch.

The lifecycle is in `schemas.alerts`. Each state change is a signed record keyed by the alert
id, and a log line; `hub alerts` folds the topic to the open ones.
"""

from __future__ import annotations

import datetime as dt

from hub.kafka.groups import Expired
from hub.pipeline import headers as h
from hub.pipeline.records import OutboundRecord, text_headers
from hub.routing.deliveries import DeliveryEntry
from schemas.alerts import (
    ALERT_TYPE,
    OPERATIONS_ALERT_TYPE,
    Alert,
    AlertKind,
    AlertState,
    OperationsAlert,
    OperationsAlertKind,
    alert_id,
)
from schemas.events import CanonicalEvent
from schemas.recipients import RecipientKind

__all__ = [
    "AnyAlert",
    "alert_record",
    "dead_letter_expiring",
    "fold_alerts",
    "gap_alert",
    "new_alert",
    "records_expired",
    "resolved",
]


def new_alert(entry: DeliveryEntry, kind: AlertKind, detail: str, now: dt.datetime) -> Alert:
    return Alert(
        id=alert_id(kind, entry.messageid),
        kind=kind,
        state=AlertState.RAISED,
        recipient=entry.recipient,
        messageid=entry.messageid,
        canonicalid=entry.canonicalid,
        subject=entry.subject,
        rule=entry.rule,
        detail=detail,
        raisedat=now,
        due=entry.receipt.due,
    )


def gap_alert(
    event: CanonicalEvent,
    rule_id: str | None,
    kind: AlertKind,
    detail: str,
    now: dt.datetime,
    *,
    about: str | None = None,
) -> Alert:
    """An alert about an event the municipality got no message of (a gap in the duty to
    notify): keyed by the canonical event (`about`, default the event itself), which stands in
    for the message id."""
    event_id = about or event.id
    return Alert(
        id=alert_id(kind, event_id),
        kind=kind,
        state=AlertState.RAISED,
        recipient=RecipientKind.MUNICIPALITY.value,
        messageid=event_id,
        canonicalid=event_id,
        subject=event.subject,
        rule=rule_id or "none",
        detail=detail,
        raisedat=now,
    )


def records_expired(gap: Expired, now: dt.datetime) -> OperationsAlert:
    """A group's committed offset fell off its topic's retention: one alert per gap."""
    where = f"{gap.group_id}|{gap.topic}|{gap.partition}|{gap.committed}"
    return OperationsAlert(
        id=alert_id(OperationsAlertKind.RECORDS_EXPIRED, where),
        kind=OperationsAlertKind.RECORDS_EXPIRED,
        state=AlertState.RAISED,
        group=gap.group_id,
        topic=gap.topic,
        partition=gap.partition,
        detail=(
            f"{gap.skipped} record(s) at offsets {gap.committed}..{gap.log_start - 1} were "
            f"deleted by retention before {gap.group_id} processed them"
        ),
        raisedat=now,
    )


def dead_letter_expiring(
    entry_id: str, topic: str, partition: int, parked: int, expires: dt.datetime, now: dt.datetime
) -> OperationsAlert:
    """A dead-letter entry that holds `parked` inputs back nears its topic's retention."""
    return OperationsAlert(
        id=alert_id(OperationsAlertKind.DEAD_LETTER_EXPIRING, entry_id),
        kind=OperationsAlertKind.DEAD_LETTER_EXPIRING,
        state=AlertState.RAISED,
        entryid=entry_id,
        topic=topic,
        partition=partition,
        parked=parked,
        detail=(
            f"{parked} input(s) are parked behind this entry, which retention deletes from "
            f"{expires.isoformat(timespec='minutes')}: replay or discard it before then"
        ),
        raisedat=now,
        due=expires,
    )


def resolved(alert: Alert, resolution: str, now: dt.datetime) -> Alert:
    return alert.model_copy(
        update={"state": AlertState.RESOLVED, "resolvedat": now, "resolution": resolution}
    )


AnyAlert = Alert | OperationsAlert


def alert_record(alert: AnyAlert, topic: str) -> OutboundRecord:
    kind = ALERT_TYPE if isinstance(alert, Alert) else OPERATIONS_ALERT_TYPE
    return OutboundRecord(
        topic=topic,
        key=alert.id.encode("ascii"),
        value=alert.model_dump_json(exclude_none=True).encode("utf-8"),
        headers=text_headers(
            [
                (h.CONTENT_TYPE, "application/json"),
                (h.EVENT_ID, alert.id),
                (h.EVENT_TYPE, kind),
                (h.ALERT_KIND, alert.kind.value),
            ]
        ),
    )


def fold_alerts(values: list[bytes]) -> list[AnyAlert]:
    """The current state of every alert on the topic (the last record per id wins)."""
    latest: dict[str, AnyAlert] = {}
    for value in values:
        alert = _parsed(value)
        if alert is not None:
            latest[alert.id] = alert
    return sorted(latest.values(), key=lambda a: a.raisedat)


def _parsed(value: bytes) -> AnyAlert | None:
    for model in (Alert, OperationsAlert):
        try:
            return model.model_validate_json(value)
        except ValueError:
            continue
    return None
