"""Alerts on `hub.alerts.v1`: built here, raised by the stages and the deadline watcher.

The lifecycle is in `schemas.alerts`. Each state change is a signed record keyed by the alert
id, and a log line; `hub alerts` folds the topic to the open ones.
"""

from __future__ import annotations

import datetime as dt

from hub.pipeline import headers as h
from hub.pipeline.records import OutboundRecord, text_headers
from hub.routing.deliveries import DeliveryEntry
from schemas.alerts import ALERT_TYPE, Alert, AlertKind, AlertState, alert_id
from schemas.events import CanonicalEvent
from schemas.recipients import RecipientKind

__all__ = ["alert_record", "fold_alerts", "gap_alert", "new_alert", "resolved"]


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


def resolved(alert: Alert, resolution: str, now: dt.datetime) -> Alert:
    return alert.model_copy(
        update={"state": AlertState.RESOLVED, "resolvedat": now, "resolution": resolution}
    )


def alert_record(alert: Alert, topic: str) -> OutboundRecord:
    return OutboundRecord(
        topic=topic,
        key=alert.id.encode("ascii"),
        value=alert.model_dump_json(exclude_none=True).encode("utf-8"),
        headers=text_headers(
            [
                (h.CONTENT_TYPE, "application/json"),
                (h.EVENT_ID, alert.id),
                (h.EVENT_TYPE, ALERT_TYPE),
                (h.ALERT_KIND, alert.kind.value),
            ]
        ),
    )


def fold_alerts(values: list[bytes]) -> list[Alert]:
    """The current state of every alert on the topic (the last record per id wins)."""
    latest: dict[str, Alert] = {}
    for value in values:
        try:
            alert = Alert.model_validate_json(value)
        except ValueError:
            continue
        latest[alert.id] = alert
    return sorted(latest.values(), key=lambda a: a.raisedat)
