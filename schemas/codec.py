"""Canonical events to bytes and back.

`encode` writes RFC 8785 canonical JSON: keys sorted, no insignificant whitespace, one spelling
for every value. The same event always gives the same bytes, which is what signatures and
duplicate detection later rely on. `decode` accepts any valid JSON of a known event type and
translates pydantic's errors into the hub's error tree.
"""

from __future__ import annotations

import functools

from pydantic import TypeAdapter, ValidationError

from schemas.canonical import canonical_json
from schemas.errors import InputRejected, Reason
from schemas.events import IDENTITY_CHECKED, CanonicalEvent, Envelope
from schemas.validation import describe_errors

__all__ = ["decode", "encode"]


def encode(event: Envelope) -> bytes:
    """The canonical JSON bytes of `event`."""
    return canonical_json(event.model_dump(mode="json"))


def decode(data: bytes, *, verified: bool = False) -> CanonicalEvent:
    """The event in `data`, or `InputRejected` (`invalid_json` or `schema_violation`).

    `verified`: the caller checked the hub's signature over `data`, so the hub validated the
    event in full when it wrote it, and its identity numbers are not checked again."""
    try:
        return _adapter().validate_json(data, context=IDENTITY_CHECKED if verified else None)
    except ValidationError as exc:
        raise _rejection(exc) from exc


@functools.cache
def _adapter() -> TypeAdapter[CanonicalEvent]:
    return TypeAdapter(CanonicalEvent)


def _rejection(exc: ValidationError) -> InputRejected:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return InputRejected("not valid JSON", reason=Reason.INVALID_JSON)
    return InputRejected(f"not a valid canonical event: {describe_errors(exc)}")
