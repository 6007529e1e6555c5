"""Every channel of the hub, as the AsyncAPI document publishes it: one entry per topic.

Adding a channel is one line in `channels` (and its message, if it is a new kind). Inbound
channels come from the source registry and recipient and receipt channels from the routing
policy, so a new source or recipient topic appears here by itself. Actions are the hub's own: it
*receives* on inbound and receipt topics and *sends* on everything it publishes (some, such as
the canonical events, it reads back too); publishers and recipients do the opposite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hub.contracts.headers import REPLAY_HEADERS, headers_schema
from hub.pipeline import headers as h
from hub.pipeline.ingest import CANONICAL_CONTENT_TYPE
from hub.recipients.base import RECIPIENT_CONTENT_TYPE
from hub.routing.consent import ConsentState
from hub.routing.deliveries import DeliveryEntry
from hub.routing.policy import Policy
from hub.settings import HubSettings
from hub.sources import Source, sources
from schemas.alerts import ALERT_TYPE, OPERATIONS_ALERT_TYPE
from schemas.audit import CHECKPOINT_TYPE, HEAD_TYPE, AuditRecord
from schemas.events import EVENT_CLASSES, event_type_of
from schemas.jsonschema import RECEIPT_SCHEMA
from schemas.recipients.codes import RecipientKind
from schemas.recipients.envelope import recipient_schema

__all__ = ["Channel", "Message", "channels"]

_PERSON_KEY: Final = {
    "type": "string",
    "pattern": "^[A-Za-z0-9._:-]{8,128}$",
    "description": "The pseudonymous person key (keyed HMAC of the identity number): one "
    "person's messages share a partition and keep their order.",
}
_DLQ_HEADERS: Final = (
    h.DLQ_ID,
    h.DLQ_STAGE,
    h.DLQ_REASON,
    h.DLQ_REASON_TEXT,
    h.DLQ_ERROR_CLASS,
    h.DLQ_ATTEMPTS,
    h.DLQ_FIRST_FAILURE,
    h.DLQ_LAST_FAILURE,
    h.DLQ_TOPIC,
    h.DLQ_PARTITION,
    h.DLQ_OFFSET,
    h.DLQ_KEY,
    h.DLQ_TIME,
    h.DLQ_GROUP,
)


@dataclass(frozen=True, slots=True)
class Message:
    """One kind of message. `payload` is a JSON Schema, or `published` names checked-in schemas
    (`schemas/json/<name>.json`) the payload is one of, used as they are."""

    name: str
    title: str
    summary: str
    content_type: str
    headers: dict[str, Any]
    key: dict[str, Any] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    published: tuple[str, ...] = ()
    # What recipients build against besides this document (an XSD, a JSON Schema file).
    contract: str | None = None


Action = Literal["receive", "send"]


@dataclass(frozen=True, slots=True)
class Channel:
    address: str
    # What the hub does on it: receives (consumes), sends (publishes), or both.
    actions: tuple[Action, ...]
    description: str
    message: Message
    # Placeholders in `address` (`{municipality}`), and what each stands for.
    parameters: dict[str, str] = field(default_factory=dict)


def channels(settings: HubSettings, policy: Policy) -> list[Channel]:
    """Every topic the hub reads or writes, in the order the document lists them. Recipient
    and receipt topics are the ones `policy` names."""
    t = settings.topics
    return [
        *(_inbound(source) for source in sources(settings).values()),
        Channel(t.events, ("send", "receive"), _EVENTS, canonical_event()),
        *_recipient_channels(policy, t.recipient_prefix),
        *_receipt_channels(policy, t.recipient_prefix),
        Channel(t.deliveries, ("send", "receive"), _DELIVERIES, delivery_entry()),
        Channel(t.consent, ("send", "receive"), _CONSENT, consent_state()),
        Channel(t.alerts, ("send",), _ALERTS, alert()),
        Channel(t.dlq, ("send",), _DLQ, dead_letter_entry()),
        Channel(t.dlq_state, ("send",), _DLQ_STATE, dead_letter_state()),
        Channel(t.parking, ("send", "receive"), _PARKING, parking_entry()),
        Channel(t.audit, ("send",), _AUDIT, audit_record()),
        Channel(t.audit_checkpoints, ("send",), _CHECKPOINTS, audit_checkpoint()),
    ]


_EVENTS: Final = (
    "Canonical events: every source document the hub accepted, translated, signed, in CloudEvents "
    "1.0 structured JSON (RFC 8785 canonical form). Keyed by the pseudonymous person key. "
    "Delivery is at least once: drop repeats by `id`, which is deterministic."
)
_DLQ: Final = (
    "Inputs a stage could not process: the input's own key, value and headers, exactly as "
    "consumed, plus `hub-dlq-*` headers saying where it came from and why."
)
_AUDIT: Final = (
    "The audit trail: one record per step per message, hash-chained per writer, kept forever "
    "(or as long as the retention its writers' `started` records name). Each writer's chain "
    "begins with a `started` record naming its key; the last record of every segment the "
    "writer stores (its chain's head) and every checkpoint carry `hub-signature`, of type "
    f"{HEAD_TYPE} or {CHECKPOINT_TYPE}. See `schemas/audit.py`."
)
_DELIVERIES: Final = (
    "The hub's record of every message sent to a recipient and what became of it (receipt, "
    "alerts, whether its plan is still open): compacted, keyed by recipient message id, the "
    "last record per message counts. The hub's own state; operators may read it."
)
_CONSENT: Final = (
    "Each person's consent to share needs information, as it stands: per recipient (KOMMUNE, "
    "HELSE, NAV) given or withdrawn, until when, and the event that said so. Compacted, keyed "
    "by the pseudonymous person key, the last record per person counts. The hub's own state: "
    "every routing decision asks it, not the consent a release carried."
)
_ALERTS: Final = (
    "What operators must act on (late notice, receipt overdue, notice rejected, and the gaps: "
    "no prior notice, no municipality; records expired before a stage read them, a dead "
    "letter near its retention): compacted, "
    "keyed by alert id, the last record per alert is its state. Signed. See `schemas/alerts.py`."
)
_DLQ_STATE: Final = (
    "What operators did with each dead-letter entry (replayed, discarded): compacted, keyed by "
    "entry id, the last record per entry counts. Written by the operator tools."
)
_PARKING: Final = (
    "Per-person order: which dead-letter entry holds a person's later inputs back, per "
    "consumer group. Compacted, keyed by `<group>|<person key>`; a tombstone (no value) "
    "releases the person. The hub's own state."
)
_PLACES: Final = {
    "municipality": "The municipality number (kommunenummer, 4 digits) of the recipient.",
    "region": "The regional health authority (helseregion) of the receiving unit.",
}
_CHECKPOINTS: Final = (
    "The audit trail's signed checkpoints, the same bytes as on the trail: they anchor each "
    "writer's chain so that a truncated or altered trail shows."
)


def _inbound(source: Source) -> Channel:
    description = (
        f"{source.description} Publishers put documents here with Kafka, or over HTTPS with "
        f"`POST /ingest/{source.name}`; the hub's ingest stage consumes them."
    )
    return Channel(source.topic, ("receive",), description, source_document(source))


def source_document(source: Source) -> Message:
    contract = f"schemas/{source.contract.parent.name}/{source.contract.name}"
    if source.contract.suffix == ".json":
        payload = json.loads(source.contract.read_text(encoding="utf-8"))
        payload = {k: v for k, v in payload.items() if k not in {"$schema", "$id"}}
    else:
        payload = {
            "type": "string",
            "contentMediaType": source.content_type,
            "description": f"One XML document valid against {contract} (UTF-8, no DTD).",
        }
    return Message(
        name=f"{source.name.capitalize()}Document",
        title=f"{source.name} source document",
        summary=f"One raw document from {source.name}, exactly as the source system wrote it.",
        content_type=source.content_type,
        headers=headers_schema((), (h.CONTENT_TYPE, h.CORRELATION_ID, *REPLAY_HEADERS)),
        key={**_PERSON_KEY, "description": "Optional: the person key, as `hub publish` sets it."},
        payload=payload,
        contract=contract,
    )


def canonical_event() -> Message:
    return Message(
        name="CanonicalEvent",
        title="Canonical event",
        summary="One canonical event; `type` says which, `dataschema` names its JSON Schema.",
        content_type=CANONICAL_CONTENT_TYPE,
        headers=headers_schema(
            (
                h.CONTENT_TYPE,
                h.EVENT_ID,
                h.EVENT_TYPE,
                h.CORRELATION_ID,
                h.SOURCE_EVENT_ID,
                h.SIGNATURE,
            ),
            REPLAY_HEADERS,
        ),
        key=_PERSON_KEY,
        published=tuple(event_type_of(cls) for cls in EVENT_CLASSES),
        contract="schemas/json/",
    )


def dead_letter_entry() -> Message:
    return Message(
        name="DeadLetterEntry",
        title="Dead-letter entry",
        summary="An input the hub gave up on, with where it came from and why.",
        content_type="application/octet-stream",
        headers=headers_schema(
            _DLQ_HEADERS,
            (
                h.DLQ_PARKED_BEHIND,
                h.DLQ_CUT,
                h.DLQ_ORIGINAL_SIZE,
                h.DLQ_ORIGINAL_SHA256,
                h.CONTENT_TYPE,
                h.CORRELATION_ID,
            ),
        ),
        key={"type": "string", "description": "The input's own key, if it had one."},
        payload={
            "description": "The input's value, byte for byte (its own content type, if any, "
            "is kept in `content-type`).",
        },
    )


def audit_record() -> Message:
    return Message(
        name="AuditRecord",
        title="Audit record",
        summary="One step of one message, in its writer's hash chain.",
        content_type="application/json",
        headers=headers_schema((), (h.SIGNATURE,)),
        key={"type": "string", "description": "The writer (one per hub process incarnation)."},
        payload=_audit_schema(),
        contract="schemas/audit.py",
    )


def audit_checkpoint() -> Message:
    return Message(
        name="AuditCheckpoint",
        title="Audit checkpoint",
        summary=f"A signed audit record of step `checkpoint` (signature type {CHECKPOINT_TYPE}).",
        content_type="application/json",
        headers=headers_schema((h.SIGNATURE,)),
        key={"type": "string", "description": "The writer whose chain it anchors."},
        payload=_audit_schema(),
        contract="schemas/audit.py",
    )


def _audit_schema() -> dict[str, Any]:
    return AuditRecord.model_json_schema(mode="serialization")


def _parameters(address: str) -> dict[str, str]:
    return {name: text for name, text in _PLACES.items() if f"{{{name}}}" in address}


def _recipient_channels(policy: Policy, prefix: str) -> list[Channel]:
    topics = dict.fromkeys((rule.topic, rule.recipient) for rule in policy.rules)
    return [
        Channel(
            prefix + topic,
            ("send",),
            f"Messages for {kind.value} ({policy.recipients[kind].description}): projected "
            "from canonical events by the routing policy, each naming its rule and legal basis, "
            "signed. Keyed by the person key.",
            recipient_message(kind),
            _parameters(topic),
        )
        for topic, kind in topics
    ]


def _receipt_channels(policy: Policy, prefix: str) -> list[Channel]:
    return [
        Channel(
            prefix + spec.receipts,
            ("receive",),
            f"Receipts from {kind.value} for the messages the hub sent it.",
            receipt(),
            _parameters(spec.receipts),
        )
        for kind, spec in policy.recipients.items()
    ]


def recipient_message(kind: RecipientKind) -> Message:
    schema = recipient_schema(kind.value).rsplit(":", 1)[1]
    return Message(
        name="".join(part.capitalize() for part in kind.value.split("-")) + "Message",
        title=f"Message for {kind.value}",
        summary=f"What {kind.value} may know of one canonical event, under one rule.",
        content_type=RECIPIENT_CONTENT_TYPE,
        headers=headers_schema(
            (
                h.CONTENT_TYPE,
                h.EVENT_ID,
                h.EVENT_TYPE,
                h.CANONICAL_ID,
                h.CORRELATION_ID,
                h.RECIPIENT,
                h.RULE_ID,
                h.LEGAL_BASIS,
                h.ACTION,
                h.SIGNATURE,
            ),
            (h.REDIRECTED_FROM,),
        ),
        key=_PERSON_KEY,
        published=(schema,),
        contract=f"schemas/json/{schema}.json",
    )


def receipt() -> Message:
    schema = RECEIPT_SCHEMA.rsplit(":", 1)[1]
    return Message(
        name="Receipt",
        title="Receipt",
        summary="A recipient's answer to one message: received, processed or rejected.",
        content_type="application/json",
        headers=headers_schema((), (h.CONTENT_TYPE, *REPLAY_HEADERS)),
        key={**_PERSON_KEY, "description": "The key of the message it answers."},
        published=(schema,),
        contract=f"schemas/json/{schema}.json",
    )


def delivery_entry() -> Message:
    return Message(
        name="DeliveryEntry",
        title="Delivery entry",
        summary="One message sent to one recipient, and what has become of it since.",
        content_type="application/json",
        headers=headers_schema((h.CONTENT_TYPE,)),
        key={"type": "string", "format": "uuid", "description": "The recipient message's id."},
        payload=DeliveryEntry.model_json_schema(mode="serialization"),
    )


def consent_state() -> Message:
    return Message(
        name="ConsentState",
        title="Consent state",
        summary="One person's consent as it stands, per recipient.",
        content_type="application/json",
        headers=headers_schema((h.CONTENT_TYPE,)),
        key=_PERSON_KEY,
        payload=ConsentState.model_json_schema(mode="serialization"),
    )


def alert() -> Message:
    return Message(
        name="Alert",
        title="Alert",
        summary="An alert's current state: raised, or resolved and why.",
        content_type="application/json",
        headers=headers_schema(
            (h.CONTENT_TYPE, h.EVENT_ID, h.EVENT_TYPE, h.SIGNATURE), (h.ALERT_KIND,)
        ),
        key={"type": "string", "format": "uuid", "description": "The alert's id."},
        # A message's alert, or an operations alert (`hub-event-type` says which).
        published=(ALERT_TYPE, OPERATIONS_ALERT_TYPE),
        contract=f"schemas/json/{ALERT_TYPE}.json",
    )


def dead_letter_state() -> Message:
    return Message(
        name="DeadLetterState",
        title="Dead-letter entry state",
        summary="The last operator action on one dead-letter entry.",
        content_type="application/json",
        headers=headers_schema((), (h.CONTENT_TYPE,)),
        key={"type": "string", "format": "uuid", "description": "The dead-letter entry's id."},
        payload={"type": "object", "description": "Defined by the operator tools."},
    )


def parking_entry() -> Message:
    return Message(
        name="ParkingEntry",
        title="Parking entry",
        summary="Who holds a person's later inputs back in one consumer group; none: released.",
        content_type="application/json",
        headers=headers_schema(()),
        key={
            "type": "string",
            "description": "`<consumer group>|<person key>`; for a stage that reads several "
            "topics (receipts), `<consumer group>|<input topic>|<person key>`.",
        },
        payload={
            "type": "object",
            "required": ["group", "blocked_by", "at"],
            "properties": {
                "group": {"type": "string"},
                "blocked_by": {
                    "type": ["string", "null"],
                    "format": "uuid",
                    "description": "The dead-letter entry that blocks the person; null: released.",
                },
                "at": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The offset of the input this was decided at: of two "
                    "states of a key, the one decided later wins.",
                },
                "since": {"type": "string", "format": "date-time"},
            },
        },
    )
