"""A recipient's receipt for a message: what it sends on its own `receipts.<recipient>.v1` topic.

The hub accepts a receipt only for a message it sent to the recipient whose topic the receipt
arrived on. The record key should be the message's key (the person key), the value this model
as JSON. A receipt sent twice is harmless: the hub records each, and the last status counts.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.events.envelope import CanonicalId
from schemas.recipients.codes import ReceiptStatus
from schemas.recipients.parts import RecipientModel

__all__ = ["Receipt"]


class Receipt(RecipientModel):
    messageid: CanonicalId = Field(description="The `id` of the message being acknowledged.")
    status: ReceiptStatus
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="Why, for `rejected`: for people, never personal data."
    )
    time: AwareDatetime | None = Field(default=None, description="When the recipient decided.")

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Self:
        if self.status is ReceiptStatus.REJECTED and self.reason is None:
            raise PydanticCustomError("reason_required", "a rejected receipt needs a reason")
        return self
