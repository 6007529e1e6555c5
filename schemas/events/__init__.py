"""The canonical events: frozen, versioned pydantic models in CloudEvents 1.0 envelopes.

One module per concern: `codes` (code lists), `parts` (person, case, unit), `envelope`
(CloudEvents attributes), one module per event family (correctional: sentence, transfer,
release, escape; police: custody; courts: judgment), and `catalog` (the union of them all).
"""

from schemas.events.catalog import EVENT_CLASSES, CanonicalEvent, event_type_of
from schemas.events.codes import (
    ConsentRecipient,
    CustodyOutcome,
    ExecutionForm,
    Need,
    Reaction,
    ReleaseKind,
)
from schemas.events.consent import Consent, ConsentData, ConsentGiven, ConsentWithdrawn
from schemas.events.custody import (
    CustodyEnd,
    CustodyEnded,
    CustodyEndedData,
    CustodyExtended,
    CustodyExtendedData,
    CustodyExtension,
    CustodyOrder,
    CustodyStarted,
    CustodyStartedData,
    PoliceData,
)
from schemas.events.envelope import Envelope, dataschema_for
from schemas.events.escape import Escape, EscapeData, EscapeReported
from schemas.events.judgment import Judgment, JudgmentFinal, JudgmentFinalData, Sanction
from schemas.events.parts import IDENTITY_CHECKED, Case, CorrectionalData, Person, Unit
from schemas.events.release import (
    Release,
    ReleaseCancelled,
    ReleaseCompleted,
    ReleaseData,
    ReleasePlanned,
)
from schemas.events.sentence import SentenceStart, SentenceStarted, SentenceStartedData
from schemas.events.transfer import (
    Transfer,
    TransferCancelled,
    TransferCompleted,
    TransferData,
    TransferPlanned,
)
from schemas.identity import IdentityKind

__all__ = [
    "EVENT_CLASSES",
    "IDENTITY_CHECKED",
    "CanonicalEvent",
    "Case",
    "Consent",
    "ConsentData",
    "ConsentGiven",
    "ConsentRecipient",
    "ConsentWithdrawn",
    "CorrectionalData",
    "CustodyEnd",
    "CustodyEnded",
    "CustodyEndedData",
    "CustodyExtended",
    "CustodyExtendedData",
    "CustodyExtension",
    "CustodyOrder",
    "CustodyOutcome",
    "CustodyStarted",
    "CustodyStartedData",
    "Envelope",
    "Escape",
    "EscapeData",
    "EscapeReported",
    "ExecutionForm",
    "IdentityKind",
    "Judgment",
    "JudgmentFinal",
    "JudgmentFinalData",
    "Need",
    "Person",
    "PoliceData",
    "Reaction",
    "Release",
    "ReleaseCancelled",
    "ReleaseCompleted",
    "ReleaseData",
    "ReleaseKind",
    "ReleasePlanned",
    "Sanction",
    "SentenceStart",
    "SentenceStarted",
    "SentenceStartedData",
    "Transfer",
    "TransferCancelled",
    "TransferCompleted",
    "TransferData",
    "TransferPlanned",
    "Unit",
    "dataschema_for",
    "event_type_of",
]
