"""What the hub hands every adapter: the policy and the one secret-bearing function it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TranslationContext"]


@dataclass(frozen=True, slots=True)
class TranslationContext:
    """Per-deployment inputs of a translation; adapters read no settings of their own.

    `person_key` turns an identity number into the pseudonymous key (the hub's keyed HMAC);
    adapters call it and never see the key. `correlation_id` is the flow this document
    belongs to, when the transport carried one.
    """

    person_key: Callable[[str], str]
    allow_test_identities: bool
    max_document_bytes: int
    correlation_id: str | None = None

    def __post_init__(self) -> None:
        if self.max_document_bytes < 1:
            raise ValueError("max_document_bytes must be positive")
