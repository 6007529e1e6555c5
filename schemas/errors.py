"""The one error tree of the hub, with stable reason codes.

    HubError                      anything the hub decides about a message
    ├── PermanentError            the same input will fail the same way: dead-letter it at once
    │   ├── InputRejected         the source document is not acceptable (bad XML, bad schema, ...)
    │   ├── SignatureRejected     a signed message failed verification
    │   └── ContractViolation     a recipient's own contract is not met
    └── TransientError            the world may be different in a moment: retry with backoff

Every leaf carries a `Reason`: a closed set of snake_case codes that dead-letter headers, metric
labels, audit records and the console show. Codes are a published contract: never rename one,
only add. The `detail` text is for people: it names where and what kind of problem, never a
value the input holds (a name, an identity number, an unknown key). As a second line of defence
the hub masks it before it is logged or written anywhere, and every detail is clipped here to
`MAX_DETAIL` characters, so no input can make a reason, a header or an HTTP answer large.

Third-party exceptions (lxml, pydantic, cryptography, aiokafka) are translated into this tree by
the code that called the library, `raise ... from exc`, and never travel further.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "MAX_DETAIL",
    "ContractViolation",
    "HubError",
    "InputRejected",
    "PermanentError",
    "Reason",
    "SignatureRejected",
    "TransientError",
    "clip",
]


class Reason(StrEnum):
    """Stable reason codes. Add new ones at the end of their group; never rename."""

    # The source document, before it has a meaning.
    TOO_LARGE = "too_large"
    EMPTY_DOCUMENT = "empty_document"
    INVALID_ENCODING = "invalid_encoding"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    INVALID_XML = "invalid_xml"
    FORBIDDEN_DTD = "forbidden_dtd"
    WRONG_NAMESPACE = "wrong_namespace"
    INVALID_JSON = "invalid_json"
    SCHEMA_VIOLATION = "schema_violation"
    # The source document's meaning: contract rules a schema cannot express.
    INVALID_IDENTITY_NUMBER = "invalid_identity_number"
    TEST_IDENTITY_NOT_ALLOWED = "test_identity_not_allowed"
    INVALID_MUNICIPALITY_NUMBER = "invalid_municipality_number"
    INVALID_DATE = "invalid_date"
    BODY_MISMATCH = "body_mismatch"
    STATUS_NOT_ALLOWED = "status_not_allowed"
    # Signed messages.
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    SIGNING_KEY_UNAVAILABLE = "signing_key_unavailable"
    # Recipients.
    CONTRACT_VIOLATION = "contract_violation"
    UNKNOWN_MUNICIPALITY = "unknown_municipality"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_MESSAGE = "unknown_message"
    WRONG_RECIPIENT = "wrong_recipient"
    # Failures that are not the message's fault.
    BROKER_UNAVAILABLE = "broker_unavailable"
    TIMEOUT = "timeout"
    RETRIES_EXHAUSTED = "retries_exhausted"
    INTERNAL_ERROR = "internal_error"
    # The audit projection's file was deleted or replaced under the running hub.
    PROJECTION_REPLACED = "projection_replaced"
    # The broker refused an output for good (e.g. larger than the topic takes).
    OUTPUT_REJECTED = "output_rejected"
    # The hub's own infrastructure, as an operator runs it (`hub kafka up`, topic set-up).
    TOOL_UNAVAILABLE = "tool_unavailable"
    PORT_IN_USE = "port_in_use"
    BROKER_START_FAILED = "broker_start_failed"
    TOPIC_REJECTED = "topic_rejected"
    # Access to the cluster: a principal without credentials, a refused login, an ACL's "no".
    NO_CREDENTIALS = "no_credentials"
    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHORIZED = "not_authorized"
    # A topic whose settings put data at risk (replication, min ISR, retention, cleanup).
    TOPIC_MISCONFIGURED = "topic_misconfigured"
    # Per-person order: held back because an earlier input of the same person failed.
    PARKED = "parked"
    # Operators' actions.
    NO_OPERATOR = "no_operator"
    ALREADY_RESOLVED = "already_resolved"
    UNKNOWN_ENTRY = "unknown_entry"
    # An action that must say why (discard, reveal) was given no reason.
    NO_REASON = "no_reason"
    # The HTTP ingress: what is wrong with a request before its document is looked at.
    UNKNOWN_SOURCE = "unknown_source"
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"


MAX_DETAIL: Final = 500


def clip(detail: str) -> str:
    """`detail`, cut to `MAX_DETAIL` characters with an ellipsis when longer."""
    return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"


class HubError(Exception):
    """Base of every error the hub raises about a message or an operation."""

    reason: Reason = Reason.INTERNAL_ERROR
    permanent: bool = True

    def __init__(self, detail: str, *, reason: Reason | None = None) -> None:
        detail = clip(detail)
        super().__init__(detail)
        self.detail = detail
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


class PermanentError(HubError):
    """Retrying will not help: the record goes to the dead-letter topic at once."""


class InputRejected(PermanentError):
    """A source document the hub cannot translate."""

    reason = Reason.SCHEMA_VIOLATION


class SignatureRejected(PermanentError):
    """A signed message that did not verify."""

    reason = Reason.BAD_SIGNATURE


class ContractViolation(PermanentError):
    """A message that does not meet a recipient's contract."""

    reason = Reason.CONTRACT_VIOLATION


class TransientError(HubError):
    """Retrying may help: the broker was away, a call timed out, a store was locked."""

    reason = Reason.BROKER_UNAVAILABLE
    permanent = False
