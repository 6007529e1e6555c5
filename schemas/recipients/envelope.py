"""The envelope of every message the hub sends a recipient.

A recipient message is derived from one canonical event (`canonicalid`) under one rule of the
routing policy (`rule`, `legalbasis`). Its `id` is deterministic from the recipient, the
canonical event and the action, so a message sent again after a crash has the same id: a
recipient deduplicates by `id`. `action` says what the message does with what the recipient
received before; `replaces` and `replacesmessageid` name what it replaces (the canonical event,
and the message this recipient got about it).

`data` holds only what the rule allows; a withdrawal, and a cancellation the recipient's rules
do not cover, carry no data at all: the recipient already has the message it replaces.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.canonical import canonical_json
from schemas.events.envelope import CanonicalId, CorrelationId, PersonKey, SourceUri
from schemas.ids import id_name, name_based_id
from schemas.recipients.codes import Action
from schemas.recipients.parts import RecipientModel

__all__ = [
    "HUB_SOURCE",
    "RECIPIENT_SCHEMA_PREFIX",
    "LegalBasis",
    "RecipientEnvelope",
    "RecipientId",
    "RuleId",
    "encode_message",
    "recipient_message_id",
    "recipient_schema",
]

HUB_SOURCE: Final = "urn:no:justishub"
RECIPIENT_SCHEMA_PREFIX: Final = "urn:no:justishub:schema:recipient."
# Fixed forever: changing it would change every recipient message id.
_MESSAGE_ID_NAMESPACE: Final = uuid.UUID("0f3c2b7e-9a41-4d6e-8f1a-5c2d7b9e4a10")

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,99}$")]
# A recipient: its kind, and for per-place kinds the place (`municipality.0301`, `health.vest`).
RecipientId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]*(\.[a-z0-9-]{1,40})?$")]
LegalBasis = Annotated[str, StringConstraints(min_length=1, max_length=500)]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,127}$")]


def recipient_schema(kind: str, version: int = 1) -> str:
    """The URI naming the JSON Schema of `kind`'s messages (also that schema's `$id`)."""
    return f"{RECIPIENT_SCHEMA_PREFIX}{kind}.v{version}"


def recipient_message_id(recipient: str, canonical_id: str, action: Action) -> str:
    """Deterministic: the same action on the same event for the same recipient, the same id."""
    name = id_name([recipient, canonical_id, action.value], ensure_ascii=True)
    return name_based_id(_MESSAGE_ID_NAMESPACE, name)


def encode_message(message: RecipientEnvelope) -> bytes:
    """The canonical JSON (RFC 8785) of `message`, without absent members: a recipient sees
    only what it was given, not the names of what it was not."""
    return canonical_json(message.model_dump(mode="json", exclude_none=True))


class RecipientEnvelope(RecipientModel):
    """Attributes shared by every recipient message; each kind adds `dataschema` and `data`."""

    specversion: Literal["1.0"] = "1.0"
    id: CanonicalId = Field(description="This message's id; deduplicate by it.")
    source: Literal["urn:no:justishub"] = HUB_SOURCE
    type: EventType = Field(description="The type of the canonical event it derives from.")
    origin: SourceUri = Field(description="The system that published the canonical event.")
    time: AwareDatetime = Field(description="When the source system registered the event.")
    datacontenttype: Literal["application/json"] = "application/json"
    subject: PersonKey = Field(description="Pseudonymous key of the person; the record key.")
    recipient: RecipientId = Field(description="Whom this message is for.")
    canonicalid: CanonicalId = Field(description="The canonical event this message derives from.")
    correlationid: CorrelationId
    action: Action
    replaces: CanonicalId | None = Field(
        default=None, description="The canonical event this one corrects or cancels."
    )
    replacesmessageid: CanonicalId | None = Field(
        default=None, description="The message this recipient received that this one replaces."
    )
    rule: RuleId = Field(description="The rule of the routing policy it was sent under.")
    legalbasis: LegalBasis = Field(description="The legal basis of that rule.")
    respondby: AwareDatetime | None = Field(
        default=None,
        description=(
            "When the rule needs a receipt: the time by which the recipient must answer, after "
            "which operators are alerted (receipt_overdue)."
        ),
    )
