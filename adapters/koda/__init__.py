"""The correctional case system (KODA): its XML event export → canonical events.

The shape every adapter has: `parse` (raw bytes → a typed record of the source document, through
the shared gate), `to_canonical` (record → canonical event, with the contract rules the source's
schema cannot express) and `translate` (both). Each raises `InputRejected` with a reason code.
"""

from __future__ import annotations

from adapters.context import TranslationContext
from adapters.koda.mapper import SOURCE, to_canonical
from adapters.koda.reader import parse
from schemas.events import CanonicalEvent

__all__ = ["SOURCE", "parse", "to_canonical", "translate"]


def translate(raw: bytes, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event of one raw KODA document."""
    return to_canonical(parse(raw, ctx), ctx)
