"""The CloudEvents 1.0 envelope every canonical event wears.

Attributes: `specversion`, `id` (deterministic, see `schemas.ids`), `source`, `type` (stable and
versioned, set by each event class), `time` (when the source registered the event),
`datacontenttype`, `dataschema` (names the JSON Schema of the event type, see
`schemas.jsonschema`), `subject` (the pseudonymous person key, never an identity number) and the
extensions `correlationid`, `replaces` (the canonical id of the event this one corrects) and
`sourceeventid` (the source system's own id, for tracing back).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, Self

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.parts import EventModel

__all__ = [
    "DATASCHEMA_PREFIX",
    "CanonicalId",
    "CorrelationId",
    "Envelope",
    "PersonKey",
    "SourceEventId",
    "SourceUri",
    "dataschema_for",
]

DATASCHEMA_PREFIX: Final = "urn:no:justishub:schema:"

CanonicalId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
SourceUri = Annotated[
    str, StringConstraints(max_length=255, pattern=r"^urn:[a-z0-9][a-z0-9-]{0,31}(?::[a-z0-9-]+)+$")
]
SourceEventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]
CorrelationId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]


def _not_an_identity_number(key: str) -> str:
    if len(key) == 11 and key.isdigit():
        raise PydanticCustomError(
            "subject_not_pseudonymous", "subject must be a pseudonymous key, not an identity number"
        )
    return key


PersonKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._:-]{8,128}$"),
    AfterValidator(_not_an_identity_number),
]


def dataschema_for(event_type: str) -> str:
    """The URI naming the JSON Schema of `event_type` (also that schema's `$id`)."""
    return DATASCHEMA_PREFIX + event_type


class Envelope(EventModel):
    """Attributes shared by every event. Each concrete class adds `type`, `dataschema`, `data`."""

    specversion: Literal["1.0"] = "1.0"
    id: CanonicalId = Field(
        description="Deterministic from source and sourceeventid: a resend has the same id."
    )
    source: SourceUri = Field(description="The system that published the source event.")
    time: AwareDatetime = Field(description="When the source system registered the event.")
    datacontenttype: Literal["application/json"] = "application/json"
    subject: PersonKey = Field(
        description="Pseudonymous key of the person (keyed HMAC); also the Kafka record key."
    )
    correlationid: CorrelationId = Field(
        description="Ties together the messages of one flow; the id itself when none was given."
    )
    replaces: CanonicalId | None = Field(
        default=None, description="For a correction: the id of the event this one replaces."
    )
    sourceeventid: SourceEventId = Field(description="The source system's own id of the event.")

    @model_validator(mode="after")
    def _does_not_replace_itself(self) -> Self:
        if self.replaces == self.id:
            raise PydanticCustomError("replaces_itself", "an event cannot replace itself")
        return self
