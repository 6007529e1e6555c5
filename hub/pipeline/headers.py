"""Names of the Kafka headers the hub reads and writes: a published contract, like the topics."""

from __future__ import annotations

__all__ = [
    "ACTION",
    "ALERT_KIND",
    "CANONICAL_ID",
    "CONTENT_TYPE",
    "CONTROL",
    "CORRELATION_ID",
    "DLQ_ATTEMPTS",
    "DLQ_CUT",
    "DLQ_ERROR_CLASS",
    "DLQ_FIRST_FAILURE",
    "DLQ_GROUP",
    "DLQ_ID",
    "DLQ_KEY",
    "DLQ_LAST_FAILURE",
    "DLQ_OFFSET",
    "DLQ_ORIGINAL_SHA256",
    "DLQ_ORIGINAL_SIZE",
    "DLQ_PARKED_BEHIND",
    "DLQ_PARTITION",
    "DLQ_PREFIX",
    "DLQ_REASON",
    "DLQ_REASON_TEXT",
    "DLQ_STAGE",
    "DLQ_TIME",
    "DLQ_TOPIC",
    "EVENT_ID",
    "EVENT_TYPE",
    "HUB_PREFIX",
    "LEGAL_BASIS",
    "RECIPIENT",
    "REDIRECTED_FROM",
    "REPLAY_GROUP",
    "REPLAY_ID",
    "REPLAY_OF",
    "REPLAY_OPERATOR",
    "REPLAY_PREFIX",
    "REPLAY_SEAL",
    "REPLAY_TIME",
    "RULE_ID",
    "SIGNATURE",
    "SOURCE_EVENT_ID",
]

# Every header the hub itself writes starts so. On a topic a source (or a recipient) writes,
# none of them is taken from the record: see `hub.pipeline.control`.
HUB_PREFIX = "hub-"

# Set by publishers (optional) and kept by the hub.
CONTENT_TYPE = "content-type"
CORRELATION_ID = "correlation-id"

# On every canonical event, so consumers can filter and trace without parsing the value.
EVENT_ID = "hub-event-id"
EVENT_TYPE = "hub-event-type"
SOURCE_EVENT_ID = "hub-source-event-id"

# The hub's detached JWS over the record's value bytes (see `schemas.signature`): on every
# message the hub publishes, and on every audit checkpoint.
SIGNATURE = "hub-signature"

# On a message for a recipient: who it is for, and the rule and legal basis it was sent under.
# The audit trail records a delivery from these. `hub-event-id` is the recipient message's own
# id; `hub-canonical-id` the canonical event it derives from.
RECIPIENT = "hub-recipient"
RULE_ID = "hub-rule-id"
LEGAL_BASIS = "hub-legal-basis"
CANONICAL_ID = "hub-canonical-id"
ACTION = "hub-action"
# The recipient the event named, when the message went to its successor (a retired
# municipality number).
REDIRECTED_FROM = "hub-redirected-from"

# On an alert: its kind, so operators and metrics can count alerts without parsing the value.
ALERT_KIND = "hub-alert-kind"

# Added to a dead-letter entry; the input's own headers are kept before them, unchanged.
DLQ_PREFIX = "hub-dlq-"
DLQ_ID = "hub-dlq-id"
DLQ_STAGE = "hub-dlq-stage"
DLQ_REASON = "hub-dlq-reason"
DLQ_REASON_TEXT = "hub-dlq-reason-text"
DLQ_ERROR_CLASS = "hub-dlq-error-class"
DLQ_ATTEMPTS = "hub-dlq-attempts"
DLQ_FIRST_FAILURE = "hub-dlq-first-failure"
DLQ_LAST_FAILURE = "hub-dlq-last-failure"
DLQ_TOPIC = "hub-dlq-topic"
DLQ_PARTITION = "hub-dlq-partition"
DLQ_OFFSET = "hub-dlq-offset"
DLQ_KEY = "hub-dlq-key"
DLQ_TIME = "hub-dlq-time"
# The consumer group of the stage that dead-lettered the input: where a replay is meant for.
DLQ_GROUP = "hub-dlq-group"
# On an entry held back because an earlier one of the same person failed: that entry's id.
DLQ_PARKED_BEHIND = "hub-dlq-parked-behind"
# On an entry the broker would not take whole: why it was cut, and what the input was (its value's
# size in bytes and SHA-256, hex), so the original can be found and proven at its source.
DLQ_CUT = "hub-dlq-cut"
DLQ_ORIGINAL_SIZE = "hub-dlq-original-size"
DLQ_ORIGINAL_SHA256 = "hub-dlq-original-sha256"

# Added to a replayed input, which goes back on its original topic. Only the stage whose group
# is named takes it; the other stages on that topic processed the original already.
REPLAY_PREFIX = "hub-replay-"
REPLAY_ID = "hub-replay-id"
REPLAY_OF = "hub-replay-of"
REPLAY_OPERATOR = "hub-replay-operator"
REPLAY_TIME = "hub-replay-time"
REPLAY_GROUP = "hub-replay-group"
# The hub's signature over a replay's or control record's `hub-replay-*` and `hub-control`
# headers, key and value (see `hub.pipeline.control`): without it a stage takes none of them.
REPLAY_SEAL = "hub-replay-seal"
# A control record (empty value) on an input topic, for the group named in REPLAY_GROUP:
# `release` lets the person's later inputs through after their blocking entry was discarded.
CONTROL = "hub-control"
