"""Every recipient kind's message model, by kind."""

from __future__ import annotations

from typing import Final

from schemas.recipients.codes import RecipientKind
from schemas.recipients.correctional import CorrectionalMessage
from schemas.recipients.envelope import RecipientEnvelope
from schemas.recipients.health import HealthMessage
from schemas.recipients.municipality import MunicipalityMessage
from schemas.recipients.nav import NavMessage
from schemas.recipients.person import PersonMessage
from schemas.recipients.police_register import PoliceRegisterMessage

__all__ = ["MESSAGE_CLASSES", "data_model_of"]

MESSAGE_CLASSES: Final[dict[RecipientKind, type[RecipientEnvelope]]] = {
    RecipientKind.POLICE_REGISTER: PoliceRegisterMessage,
    RecipientKind.NAV: NavMessage,
    RecipientKind.MUNICIPALITY: MunicipalityMessage,
    RecipientKind.HEALTH: HealthMessage,
    RecipientKind.CORRECTIONAL: CorrectionalMessage,
    RecipientKind.PERSON: PersonMessage,
}


def data_model_of(kind: RecipientKind) -> type[object]:
    """The model of `data` in `kind`'s messages (the union member that is not None)."""
    annotation = MESSAGE_CLASSES[kind].model_fields["data"].annotation
    members = [m for m in getattr(annotation, "__args__", ()) if m is not type(None)]
    return members[0]  # type: ignore[no-any-return]  # a class taken from a typing union
