"""Police systems: remand custody started, extended and ended, as JSON → canonical events.

The shape every adapter has: `parse` (raw bytes → a typed record of the source document, through
the shared JSON gate), `to_canonical` (record → canonical event, with the contract rules the
source's schema cannot express) and `translate` (both). Each raises `InputRejected` with a
reason code.
"""

from __future__ import annotations

from adapters.context import TranslationContext
from adapters.police.mapper import SOURCE, to_canonical
from adapters.police.reader import parse
from schemas.events import CanonicalEvent

__all__ = ["SOURCE", "parse", "to_canonical", "translate"]


def translate(raw: bytes, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event of one raw police custody document."""
    return to_canonical(parse(raw, ctx), ctx)
