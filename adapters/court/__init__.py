"""Court systems: judgments that have become final and are to be executed, as XML → canonical.

The shape every adapter has: `parse` (raw bytes → a typed record of the source document, through
the shared hardened XML gate), `to_canonical` (record → canonical event, with the contract rules
the XSD cannot express) and `translate` (both). Each raises `InputRejected` with a reason code.
"""

from __future__ import annotations

from adapters.context import TranslationContext
from adapters.court.mapper import SOURCE, to_canonical
from adapters.court.reader import parse
from schemas.events import CanonicalEvent

__all__ = ["SOURCE", "parse", "to_canonical", "translate"]


def translate(raw: bytes, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event of one raw final-judgment document."""
    return to_canonical(parse(raw, ctx), ctx)
