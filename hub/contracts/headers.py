"""Every Kafka header of the published contract, described once for the AsyncAPI document.

Header values are UTF-8 text. Each channel lists which of these its messages carry, and which of
them are always there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from hub.pipeline import headers as h
from schemas.alerts import AlertKind
from schemas.errors import Reason
from schemas.recipients.codes import Action as RecipientAction

__all__ = ["HEADERS", "REPLAY_HEADERS", "HeaderDoc", "headers_schema"]


@dataclass(frozen=True, slots=True)
class HeaderDoc:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


_UUID: Final = {"type": "string", "format": "uuid"}
_TIME: Final = {"type": "string", "format": "date-time"}
_INT: Final = {"type": "string", "pattern": "^[0-9]+$"}

HEADERS: Final[dict[str, HeaderDoc]] = {
    doc.name: doc
    for doc in (
        HeaderDoc(h.CONTENT_TYPE, "Media type of the value."),
        HeaderDoc(
            h.CORRELATION_ID,
            "Ties the messages of one flow together. On inbound documents optional (the "
            "publisher's own); on canonical events always (the event id when none was given).",
            {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
        ),
        HeaderDoc(h.EVENT_ID, "The canonical event's id (also `id` in the value).", _UUID),
        HeaderDoc(h.EVENT_TYPE, "The canonical event's type (also `type` in the value)."),
        HeaderDoc(h.SOURCE_EVENT_ID, "The source system's own id of the event."),
        HeaderDoc(
            h.SIGNATURE,
            "The hub's detached JWS (RFC 7515 compact, unencoded payload per RFC 7797, "
            "alg Ed25519) over the exact bytes of the value; the protected header names the "
            "key (`kid`, RFC 7638 thumbprint), the message id (`hub_id`) and type "
            "(`hub_type`). Verify with `schemas.signature.verify` and the hub's published "
            "JWKS before trusting a message.",
            {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.\\.[A-Za-z0-9_-]+$"},
        ),
        HeaderDoc(h.CANONICAL_ID, "The canonical event a recipient message derives from.", _UUID),
        HeaderDoc(h.RECIPIENT, "Who the message is for (a recipient kind and place)."),
        HeaderDoc(h.RULE_ID, "The routing policy rule it was sent under."),
        HeaderDoc(h.LEGAL_BASIS, "The legal basis of that rule, as the policy states it."),
        HeaderDoc(
            h.ACTION,
            "What the message does with what the recipient knew before.",
            {"type": "string", "enum": [action.value for action in RecipientAction]},
        ),
        HeaderDoc(
            h.REDIRECTED_FROM,
            "The recipient the event named, when the message went to its successor (a retired "
            "municipality number).",
        ),
        HeaderDoc(
            h.ALERT_KIND,
            "An alert's kind (also `kind` in the value).",
            {"type": "string", "enum": [kind.value for kind in AlertKind]},
        ),
        HeaderDoc(h.DLQ_ID, "Deterministic id of the dead-letter entry.", _UUID),
        HeaderDoc(h.DLQ_STAGE, "The stage that gave up on the input (e.g. `ingest`)."),
        HeaderDoc(
            h.DLQ_REASON,
            "Why, as a stable reason code.",
            {"type": "string", "enum": [reason.value for reason in Reason]},
        ),
        HeaderDoc(h.DLQ_REASON_TEXT, "Why, for people; identity numbers and values masked."),
        HeaderDoc(h.DLQ_ERROR_CLASS, "The class of the error that decided it."),
        HeaderDoc(h.DLQ_ATTEMPTS, "How many times the stage tried.", _INT),
        HeaderDoc(h.DLQ_FIRST_FAILURE, "When the first attempt failed.", _TIME),
        HeaderDoc(h.DLQ_LAST_FAILURE, "When the last attempt failed.", _TIME),
        HeaderDoc(h.DLQ_TOPIC, "The topic the input was consumed from."),
        HeaderDoc(h.DLQ_PARTITION, "Its partition.", _INT),
        HeaderDoc(h.DLQ_OFFSET, "Its offset.", _INT),
        HeaderDoc(h.DLQ_KEY, "Its key, base64; empty when it had none."),
        HeaderDoc(h.DLQ_TIME, "When the entry was written.", _TIME),
        HeaderDoc(h.DLQ_GROUP, "The consumer group of that stage: where a replay is meant for."),
        HeaderDoc(
            h.DLQ_PARKED_BEHIND,
            "On an input held back because an earlier one of the same person failed: that "
            "entry's id.",
            _UUID,
        ),
        HeaderDoc(
            h.DLQ_CUT,
            "On an entry too large for the dead-letter topic, written cut short (the input's "
            "value cut to its first bytes or none, its own headers dropped, a key longer than "
            "1 KiB replaced by `sha256:<hex>`): why. Such an entry is not replayable.",
        ),
        HeaderDoc(h.DLQ_ORIGINAL_SIZE, "On a cut entry: the input value's size in bytes.", _INT),
        HeaderDoc(
            h.DLQ_ORIGINAL_SHA256,
            "On a cut entry: the input value's SHA-256, hex.",
            {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        ),
        HeaderDoc(h.REPLAY_ID, "On a replayed input: the replay's id.", _UUID),
        HeaderDoc(h.REPLAY_OF, "On a replayed input: the dead-letter entry it comes from.", _UUID),
        HeaderDoc(h.REPLAY_OPERATOR, "On a replayed input: who replayed it."),
        HeaderDoc(h.REPLAY_TIME, "On a replayed input: when.", _TIME),
        HeaderDoc(
            h.REPLAY_GROUP, "On a replayed input: the only consumer group that is to take it."
        ),
        HeaderDoc(
            h.CONTROL,
            "A control record (empty value) for the group in `hub-replay-group`: `release` "
            "lets a person's later inputs through.",
            {"type": "string", "enum": ["release"]},
        ),
        HeaderDoc(
            h.REPLAY_SEAL,
            "On a replayed input or a control record: the hub's detached JWS (type "
            "`no.justishub.control.v1`, id the entry in `hub-replay-of`) over its replay and "
            "control headers, key and value. Without it a stage ignores those headers, and on "
            "a topic a source writes it drops every `hub-*` header.",
        ),
    )
}


# On any topic a stage consumes: what an operator's replay adds to an input it puts back.
REPLAY_HEADERS: Final = (
    h.REPLAY_ID,
    h.REPLAY_OF,
    h.REPLAY_OPERATOR,
    h.REPLAY_TIME,
    h.REPLAY_GROUP,
    h.CONTROL,
    h.REPLAY_SEAL,
)


def headers_schema(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The AsyncAPI `headers` schema of a message: these headers. Others may come (a new
    optional header is a compatible change), always as text."""
    properties = {
        name: {**HEADERS[name].schema, "description": HEADERS[name].description}
        for name in (*required, *optional)
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    schema["additionalProperties"] = {"type": "string"}
    return schema
