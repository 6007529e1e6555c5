"""`hub policy` and `hub alerts` behind the CLI: plain functions over the policy and topics."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hub.audit.projection import Projection
from hub.kafka.reader import read_topic
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord
from hub.recipients.alerts import AnyAlert, fold_alerts
from hub.routing.consent import ConsentBook
from hub.routing.engine import explain
from hub.routing.policy import Policy
from hub.settings import HubSettings
from schemas.alerts import AlertState

__all__ = [
    "consent_in_force",
    "event_json",
    "explain_lines",
    "find_event",
    "open_alerts",
    "rule_rows",
]


def rule_rows(policy: Policy) -> list[list[str]]:
    """The effective rules, in order: what `hub policy show` prints."""
    rows = [["rule", "recipient", "event types", "when", "fields", "topic", "receipt/lead"]]
    for rule in policy.rules:
        when = ", ".join(
            f"{k}={'|'.join(v) if isinstance(v, list) else v}"
            for k, v in rule.when.model_dump(mode="json", exclude_none=True).items()
        )
        flags = "/".join(
            f for f, on in (("receipt", rule.receipt_required), ("lead", rule.lead_time)) if on
        )
        types = ", ".join(t.split(".", 2)[2].removesuffix(".v1") for t in rule.types)
        rows.append(
            [
                rule.id,
                rule.recipient.value,
                types,
                when or "-",
                ", ".join(rule.data_fields),
                rule.topic,
                flags or "-",
            ]
        )
    return rows


async def find_event(settings: HubSettings, message_id: str) -> InboundRecord | None:
    """The canonical event `message_id`: at the position the audit trail names, else a scan."""
    bootstrap, topic = settings.kafka_connection(), settings.topics.events
    for row in Projection(settings.projection_path).trail(message_id):
        if row.step == "published" and row.output and row.message_id == message_id:
            partition, offset = _position(row.output)
            async for record in read_topic(
                bootstrap, topic, start={partition: offset}, max_records=1
            ):
                if record.header(h.EVENT_ID) == message_id:
                    return record
    async for record in read_topic(bootstrap, topic):
        if record.header(h.EVENT_ID) == message_id:
            return record
    return None


async def consent_in_force(settings: HubSettings, subject: str) -> frozenset[str]:
    """The person's consent in force today, as the consent topic holds it (what a decision made
    now would use)."""
    book = ConsentBook()
    book.apply_records(
        [r async for r in read_topic(settings.kafka_connection(), settings.topics.consent)]
    )
    return book.get(subject).in_force(dt.datetime.now(dt.UTC).date())


def explain_lines(
    policy: Policy, event: dict[str, Any], consents: frozenset[str] | None = None
) -> list[str]:
    lines = [f"event {event['id']}  {event['type']}"]
    if consents is not None:
        lines.append(f"  consent in force now: {', '.join(sorted(consents)) or 'none'}")
    for verdict in explain(policy, event, consents):
        mark = "✓" if verdict.matched else "·"
        lines.append(
            f"  {mark} {verdict.rule.id:<44} {verdict.rule.recipient.value:<16} {verdict.why}"
        )
    return lines


async def open_alerts(settings: HubSettings, *, include_resolved: bool = False) -> list[AnyAlert]:
    values = [
        r.value async for r in read_topic(settings.kafka_connection(), settings.topics.alerts)
    ]
    alerts = fold_alerts(values)
    return alerts if include_resolved else [a for a in alerts if a.state is AlertState.RAISED]


def _position(where: str) -> tuple[int, int]:
    # "topic[partition]@offset", as the projection stores it.
    head, offset = where.rsplit("@", 1)
    return int(head.rsplit("[", 1)[1].rstrip("]")), int(offset)


def event_json(record: InboundRecord) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)
    return value
