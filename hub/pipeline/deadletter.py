"""Dead-letter entries: the one place that decides what a dead-letter record carries.

An entry is the input record exactly as it arrived (value, key, headers) plus `hub-dlq-*` headers
that say where it came from and why it failed, so that an operator can understand it and a replay
can put it back where it was. The reason text is masked: no identity number or quoted input value
ever reaches the dead-letter topic's headers.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, text_headers
from hub.privacy import mask_text
from schemas.errors import HubError
from schemas.ids import name_based_id

__all__ = ["Failure", "cut_entry", "dead_letter", "dead_letter_id"]

_DLQ_NAMESPACE = uuid.UUID("8d0c5a4e-2f51-4f57-9a3c-6b1f0e7d2c11")
# The longest input key a cut entry keeps as it was.
_KEY_KEPT = 1024


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong with one input in one stage, and how hard the stage tried."""

    error: HubError
    # The class of what actually went wrong: for `retries_exhausted`, the last transient error.
    error_class: str
    attempts: int
    first_failure: datetime
    last_failure: datetime


def dead_letter_id(stage: str, record: InboundRecord) -> str:
    """Deterministic: a redelivered input that fails again yields the same entry id."""
    pos = record.position
    return name_based_id(_DLQ_NAMESPACE, f"{stage}|{pos.topic}|{pos.partition}|{pos.offset}")


def dead_letter(
    record: InboundRecord, failure: Failure, *, stage: str, group: str, topic: str
) -> OutboundRecord:
    """The dead-letter entry for `record`: its own bytes and headers, plus why and where from."""
    pos = record.position
    error = failure.error
    blocked_by = getattr(error, "blocked_by", None)
    ours = text_headers(
        [
            (h.DLQ_ID, dead_letter_id(stage, record)),
            (h.DLQ_STAGE, stage),
            (h.DLQ_GROUP, group),
            (h.DLQ_REASON, error.reason.value),
            (h.DLQ_REASON_TEXT, mask_text(error.detail)[:1000]),
            (h.DLQ_ERROR_CLASS, failure.error_class),
            (h.DLQ_ATTEMPTS, str(failure.attempts)),
            (h.DLQ_FIRST_FAILURE, failure.first_failure.isoformat()),
            (h.DLQ_LAST_FAILURE, failure.last_failure.isoformat()),
            (h.DLQ_TOPIC, pos.topic),
            (h.DLQ_PARTITION, str(pos.partition)),
            (h.DLQ_OFFSET, str(pos.offset)),
            (h.DLQ_KEY, base64.b64encode(record.key).decode("ascii") if record.key else ""),
            (h.DLQ_TIME, failure.last_failure.isoformat()),
        ]
        + ([(h.DLQ_PARKED_BEHIND, blocked_by)] if blocked_by else [])
    )
    # A replayed input that fails again must not carry its previous entry's verdict.
    kept = tuple((k, v) for k, v in record.headers if not k.startswith(h.DLQ_PREFIX))
    return OutboundRecord(topic=topic, key=record.key, value=record.value, headers=kept + ours)


def cut_entry(entry: OutboundRecord, why: HubError, keep: int) -> OutboundRecord:
    """`entry` shortened for a dead-letter topic that refused it whole: its value cut to `keep`
    bytes, the input's own headers dropped (they may be what made it too large), and the
    original value's size and SHA-256 kept, so the input can be found and proven at its source.
    """
    value, key = entry.value or b"", entry.key
    ours = tuple((k, v) for k, v in entry.headers if k.startswith(h.DLQ_PREFIX))
    if key is not None and len(key) > _KEY_KEPT:
        # No person key is this long: a key that made the entry too large is hashed, so that
        # the entry still goes to one partition per key, and `hub-dlq-key` names the hash.
        key = b"sha256:" + hashlib.sha256(key).hexdigest().encode("ascii")
        hashed = text_headers([(h.DLQ_KEY, base64.b64encode(key).decode("ascii"))])
        ours = tuple((k, v) for k, v in ours if k != h.DLQ_KEY) + hashed
    about = text_headers(
        [
            (h.DLQ_CUT, mask_text(str(why))[:500]),
            (h.DLQ_ORIGINAL_SIZE, str(len(value))),
            (h.DLQ_ORIGINAL_SHA256, hashlib.sha256(value).hexdigest()),
        ]
    )
    return OutboundRecord(entry.topic, key, value[:keep], ours + about)
