"""The messages the hub sends its recipients, their receipts, and the codes both use.

One module per recipient kind, each with the model of what that kind may ever receive; the
routing policy narrows it further per rule. JSON Schemas: `python -m schemas.jsonschema`.
"""

from schemas.recipients.catalog import MESSAGE_CLASSES, data_model_of
from schemas.recipients.codes import Action, ReceiptStatus, RecipientKind, Refusal
from schemas.recipients.correctional import CorrectionalData, CorrectionalMessage
from schemas.recipients.envelope import (
    HUB_SOURCE,
    RecipientEnvelope,
    recipient_message_id,
    recipient_schema,
)
from schemas.recipients.health import HealthData, HealthMessage
from schemas.recipients.municipality import MunicipalityData, MunicipalityMessage
from schemas.recipients.nav import NavData, NavMessage
from schemas.recipients.person import PersonData, PersonMessage, PersonNotice, ToldAgency
from schemas.recipients.police_register import PoliceRegisterData, PoliceRegisterMessage
from schemas.recipients.receipt import Receipt

__all__ = [
    "HUB_SOURCE",
    "MESSAGE_CLASSES",
    "Action",
    "CorrectionalData",
    "CorrectionalMessage",
    "HealthData",
    "HealthMessage",
    "MunicipalityData",
    "MunicipalityMessage",
    "NavData",
    "NavMessage",
    "PersonData",
    "PersonMessage",
    "PersonNotice",
    "PoliceRegisterData",
    "PoliceRegisterMessage",
    "Receipt",
    "ReceiptStatus",
    "RecipientEnvelope",
    "RecipientKind",
    "Refusal",
    "ToldAgency",
    "data_model_of",
    "recipient_message_id",
    "recipient_schema",
]
