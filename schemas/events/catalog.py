"""Every canonical event type, and the one union that decodes any of them.

A new event type (police remand custody, court final judgments, ...) is a new module beside the
existing ones, plus one entry here.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from schemas.events.consent import ConsentGiven, ConsentWithdrawn
from schemas.events.custody import CustodyEnded, CustodyExtended, CustodyStarted
from schemas.events.envelope import Envelope
from schemas.events.escape import EscapeReported
from schemas.events.judgment import JudgmentFinal
from schemas.events.release import ReleaseCancelled, ReleaseCompleted, ReleasePlanned
from schemas.events.sentence import SentenceStarted
from schemas.events.transfer import TransferCancelled, TransferCompleted, TransferPlanned

__all__ = ["EVENT_CLASSES", "CanonicalEvent", "event_type_of"]

CanonicalEvent = Annotated[
    SentenceStarted
    | TransferPlanned
    | TransferCompleted
    | TransferCancelled
    | ReleasePlanned
    | ReleaseCompleted
    | ReleaseCancelled
    | EscapeReported
    | CustodyStarted
    | CustodyExtended
    | CustodyEnded
    | JudgmentFinal
    | ConsentGiven
    | ConsentWithdrawn,
    Field(discriminator="type"),
]

EVENT_CLASSES: Final[tuple[type[Envelope], ...]] = (
    SentenceStarted,
    TransferPlanned,
    TransferCompleted,
    TransferCancelled,
    ReleasePlanned,
    ReleaseCompleted,
    ReleaseCancelled,
    EscapeReported,
    CustodyStarted,
    CustodyExtended,
    CustodyEnded,
    JudgmentFinal,
    ConsentGiven,
    ConsentWithdrawn,
)


def event_type_of(cls: type[Envelope]) -> str:
    """The `type` attribute every instance of `cls` carries."""
    default = cls.model_fields["type"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__} has no fixed type")
    return default
