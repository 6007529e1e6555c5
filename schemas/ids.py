"""Deterministic canonical event ids.

The id of a canonical event is a UUIDv5 of the source system and the source's own event id, so a
resend of the same source event gets the same id and every later stage and every recipient can
drop the duplicate. The namespace is fixed forever: changing it would change every id.
"""

from __future__ import annotations

import json
import uuid
from typing import Final

__all__ = ["CANONICAL_ID_NAMESPACE", "canonical_id"]

# uuid5(NAMESPACE_URL, "urn:no:justishub:canonical-event-id"), written out so that it cannot
# drift with a change of that derivation; a test recomputes it.
CANONICAL_ID_NAMESPACE: Final = uuid.UUID("ea6d1c83-27c4-5770-8f4d-b1a0dd182ad7")


def canonical_id(source: str, source_event_id: str) -> str:
    """The canonical id (a lowercase UUID string) of the event `source_event_id` from `source`."""
    if not source or not source_event_id:
        raise ValueError("source and source_event_id must both be non-empty")
    # A JSON array keeps the two parts apart whatever characters they contain.
    name = json.dumps([source, source_event_id], ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(CANONICAL_ID_NAMESPACE, name))
