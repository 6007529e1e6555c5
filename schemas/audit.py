"""The audit record: one step of one message, as it is kept on `hub.audit.v1` forever.

Auditors build against this module. A record is canonical JSON (RFC 8785) of `AuditRecord`,
without the members that are null. Each writer (one per hub process incarnation) chains its
records:

    seq    0, 1, 2, ... without gaps, per writer
    prev   the SHA-256 (hex) of the exact value bytes of the writer's record seq - 1;
           for seq 0, GENESIS (64 zeros)

A writer's first record (seq 0) is `started`: it names the writer's signing key (`kid`, the
RFC 7638 thumbprint of a key in the hub's JWKS) and how long the trail is kept
(`retention_days`, absent: forever), so a verifier tells records gone by retention from deleted
ones.

The chain is signed as it grows: the writer stores its records in segments (one producer batch
each, stored whole or not at all), and the LAST record of every segment carries a `hub-signature`
header (see `schemas.signature`) over its exact value bytes, with the record's `id` as `hub_id`
and HEAD_TYPE as `hub_type`. Since every record names the hash of the one before, that one
signature vouches for the whole chain up to it. Every signature of a chain is made with the key
its `started` record names; a record after a chain's last signed one was not written by the hub.

A chain without a closing checkpoint whose writer is gone (a killed process) can be closed by an
operator: a `sealed` record in the operator's own chain names the writer and the seq and hash its
chain ended at (`sealed`); the chain must end there, with that hash, from then on.

At least every N records or T seconds (and, while idle, every heartbeat) the writer appends a
`checkpoint` record, signed the same way with type CHECKPOINT_TYPE, and publishes the same bytes
and signature to `hub.audit.checkpoints.v1` as well. A checkpoint's `prev` is the head of the
chain it vouches for; `closing` marks the last record of a writer that stopped cleanly.

The `id` of a record is deterministic from the step and its input, so a step recorded again after
a crash (at-least-once delivery) is recognisable as a repeat: same id, new seq.

Personal data: records carry the pseudonymous person key (`subject`), never an identity number
or a name. The model refuses any free-text member holding a run of 11 digits.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from schemas.canonical import canonical_json
from schemas.identity import identity_number_spans
from schemas.ids import id_name, name_based_id

__all__ = [
    "AUDIT_FORMAT",
    "CHECKPOINT_TYPE",
    "GENESIS",
    "HEAD_TYPE",
    "REQUIRED",
    "AuditFacts",
    "AuditRecord",
    "AuditStep",
    "ChainEnd",
    "Where",
    "audit_id",
    "decode_record",
    "encode_chained",
    "encode_record",
    "record_hash",
    "valid_writer",
]

AUDIT_FORMAT: Final = 1
GENESIS: Final = "0" * 64
CHECKPOINT_TYPE: Final = "no.justishub.audit.checkpoint.v1"
HEAD_TYPE: Final = "no.justishub.audit.head.v1"
# Fixed forever: changing it would change every audit record id.
_AUDIT_ID_NAMESPACE: Final = uuid.UUID("5b0e8f9a-61d2-4c1b-8e2f-3a7d9c4e1f60")
# Members whose text comes from people or other systems. Ids and keys are the hub's own hex and
# may hold 11 digits in a row by chance.
_FREE_TEXT: Final = (
    "correlation_id",
    "source_event_id",
    "recipient",
    "rule_id",
    "legal_basis",
    "redirected_from",
    "operator",
    "note",
)

Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Token = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,200}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
PersonKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{8,128}$")]


class AuditStep(StrEnum):
    STARTED = "started"  # a writer's first record: its signing key, the trail's retention
    RECEIVED = "received"  # a stage took an input (source topic, partition, offset)
    REJECTED = "rejected"  # the input's content was refused (reason code)
    PUBLISHED = "published"  # a canonical event went out (id, topic, partition, offset)
    DEAD_LETTERED = "dead_lettered"  # the input went to the dead-letter topic (reason, position)
    VERIFICATION_FAILED = "verification_failed"  # a signed input did not verify (reason)
    # An input carried `hub-*` headers the hub had not sealed (a forged replay or release):
    # removed before the stage saw it (which, in `note`).
    HEADERS_REFUSED = "headers_refused"
    DELIVERED = "delivered"  # a recipient was sent a message (recipient, rule, legal basis)
    REFUSED = "refused"  # a recipient was not sent a message, and why
    RECEIPT = "receipt"  # a recipient acknowledged a message (status)
    REPLAYED = "replayed"  # an operator put a dead-lettered input back (who)
    DISCARDED = "discarded"  # an operator resolved a dead-letter entry without sending it (why)
    REVEALED = "revealed"  # an operator saw a dead-letter entry's personal data in clear (why)
    ACTION_FAILED = "action_failed"  # an operator's action was refused or failed (which, why)
    LOGGED_IN = "logged_in"  # an operator logged in to the console (who)
    LOGIN_REFUSED = "login_refused"  # a console login was refused (why; who, if a known user)
    LOGGED_OUT = "logged_out"  # an operator logged out of the console (who)
    DISCLOSURES_SHOWN = "disclosures_shown"  # an operator looked up a person's disclosures
    CHECKPOINT = "checkpoint"  # signed: the chain up to here is as it was written
    SEALED = "sealed"  # an operator closed a dead writer's open chain where it ended (who, why)


# What each step must name, checked on every record so a writer cannot leave out the facts.
REQUIRED: Final[dict[AuditStep, frozenset[str]]] = {
    AuditStep.STARTED: frozenset({"kid"}),
    AuditStep.RECEIVED: frozenset({"input"}),
    AuditStep.REJECTED: frozenset({"input", "reason"}),
    AuditStep.PUBLISHED: frozenset({"input", "message_id", "event_type", "output"}),
    AuditStep.DEAD_LETTERED: frozenset({"input", "reason", "output", "entry_id"}),
    AuditStep.VERIFICATION_FAILED: frozenset({"input", "reason"}),
    AuditStep.HEADERS_REFUSED: frozenset({"input", "reason", "note"}),
    AuditStep.DELIVERED: frozenset(
        {"input", "message_id", "recipient", "rule_id", "legal_basis", "output"}
    ),
    AuditStep.REFUSED: frozenset({"message_id", "recipient", "reason"}),
    AuditStep.RECEIPT: frozenset({"input", "recipient", "delivered_id", "receipt_status"}),
    AuditStep.REPLAYED: frozenset({"input", "output", "operator", "entry_id"}),
    AuditStep.DISCARDED: frozenset({"entry_id", "operator", "note"}),
    AuditStep.REVEALED: frozenset({"entry_id", "operator", "note"}),
    AuditStep.ACTION_FAILED: frozenset({"action", "reason"}),
    AuditStep.LOGGED_IN: frozenset({"operator"}),
    AuditStep.LOGIN_REFUSED: frozenset({"reason"}),
    AuditStep.LOGGED_OUT: frozenset({"operator"}),
    AuditStep.DISCLOSURES_SHOWN: frozenset({"operator", "subject"}),
    AuditStep.CHECKPOINT: frozenset({"closing"}),
    AuditStep.SEALED: frozenset({"operator", "note", "sealed"}),
}


class Where(BaseModel):
    """A position on the broker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: Token
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class ChainEnd(BaseModel):
    """Where a writer's chain ended: its last record's seq and hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    writer: Token
    seq: int = Field(ge=0)
    hash: Hash


class AuditFacts(BaseModel):
    """What one step records. The writer adds the chain members and makes it an `AuditRecord`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Token = Field(description="Deterministic from the step and its input.")
    step: AuditStep
    stage: Code = Field(description="The stage that took the step: ingest, route_nav, ...")
    subject: PersonKey | None = Field(default=None, description="Pseudonymous person key.")
    message_id: Token | None = Field(default=None, description="The canonical event's id.")
    event_type: Token | None = None
    correlation_id: Token | None = None
    source_event_id: Token | None = None
    input: Where | None = Field(default=None, description="What the step consumed.")
    output: Where | None = Field(default=None, description="Where its result was stored.")
    reason: Code | None = Field(default=None, description="A stable reason code.")
    kid: Token | None = Field(
        default=None,
        description="The key that signed the output; for `started`, the key of the chain.",
    )
    entry_id: Token | None = Field(default=None, description="The dead-letter entry's id.")
    recipient: Token | None = None
    rule_id: Token | None = None
    legal_basis: Text | None = None
    delivered_id: Token | None = Field(default=None, description="The recipient message's id.")
    redirected_from: Token | None = Field(
        default=None, description="The recipient a rule named, when delivered to its successor."
    )
    receipt_status: Code | None = None
    operator: Token | None = None
    action: Code | None = Field(default=None, description="The operator action: replay, ...")
    note: Text | None = Field(default=None, description="Why the operator did it, as given.")
    blocked_by: Token | None = Field(
        default=None, description="The dead-letter entry an input is parked behind."
    )
    closing: bool | None = Field(default=None, description="A checkpoint: the writer stopped.")
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="A `started` record: how long the trail is kept (absent: forever).",
    )
    sealed: ChainEnd | None = Field(
        default=None, description="A `sealed` record: the dead writer's chain and where it ended."
    )

    @model_validator(mode="after")
    def _complete_and_pseudonymous(self) -> Self:
        missing = sorted(name for name in REQUIRED[self.step] if getattr(self, name) is None)
        if missing:
            raise ValueError(f"a {self.step.value} record needs {', '.join(missing)}")
        if self.subject is not None and self.subject.isdigit():
            raise ValueError("subject must be a pseudonymous key, not an identity number")
        for name in _FREE_TEXT:
            value = getattr(self, name)
            if isinstance(value, str) and _may_hold_a_number(value):
                raise ValueError(f"{name} holds what may be an identity number")
        return self


# The same few values (a rule, its legal basis, an event's correlation id) are checked in every
# record of a document's journey, and again when a record is chained and when it is read back.
@functools.lru_cache(maxsize=8192)
def _may_hold_a_number(value: str) -> bool:
    return next(identity_number_spans(value), None) is not None


class AuditRecord(AuditFacts):
    """An `AuditFacts` in its writer's chain."""

    v: Literal[1] = AUDIT_FORMAT
    writer: Token = Field(description="The chain: one per hub process incarnation.")
    seq: int = Field(ge=0, description="Position in the writer's chain, without gaps.")
    prev: Hash = Field(description="SHA-256 of the writer's record seq - 1 (GENESIS for 0).")
    time: AwareDatetime = Field(description="When the writer recorded the step (UTC).")

    @classmethod
    def chain(
        cls, facts: AuditFacts, *, writer: str, seq: int, prev: str, time: datetime
    ) -> AuditRecord:
        return cls(**dict(facts), writer=writer, seq=seq, prev=prev, time=time)


def encode_record(record: AuditRecord) -> bytes:
    """The canonical bytes of `record`: what is hashed, chained and stored."""
    data: dict[str, Any] = record.model_dump(mode="json", exclude_none=True)
    return canonical_json(data)


def encode_chained(facts: AuditFacts, *, writer: str, seq: int, prev: str, time: datetime) -> bytes:
    """`encode_record(AuditRecord.chain(facts, ...))`, byte for byte, without validating `facts`
    a second time: the writer encodes every record of the trail, and `facts` were checked when
    they were made. The chain members are the writer's own (`AuditWriter` checks its id)."""
    data: dict[str, Any] = facts.model_dump(mode="json", exclude_none=True)
    data.update(v=AUDIT_FORMAT, writer=writer, seq=seq, prev=prev, time=_json_time(time))
    return canonical_json(data)


def valid_writer(writer: str) -> str:
    """`writer`, if it is a valid chain (writer) id; `ValueError` if not."""
    return _WRITER.validate_python(writer)


_json_time = functools.partial(TypeAdapter(AwareDatetime).dump_python, mode="json")
_WRITER: Final = TypeAdapter(Token)


def decode_record(value: bytes) -> AuditRecord:
    """The record in `value`; raises `ValueError` (pydantic's `ValidationError`) when it is none."""
    return AuditRecord.model_validate_json(value)


def record_hash(value: bytes) -> str:
    """What the next record of the chain names as `prev`."""
    return hashlib.sha256(value).hexdigest()


def audit_id(step: AuditStep, *parts: str) -> str:
    """A deterministic record id: the same step of the same input always gets the same id."""
    return name_based_id(_AUDIT_ID_NAMESPACE, id_name([step.value, *parts]))
