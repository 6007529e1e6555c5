"""The source systems the hub takes documents from, and the adapter of each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import adapters.koda
from adapters.context import TranslationContext
from hub.settings import HubSettings
from schemas.events import CanonicalEvent

__all__ = ["Source", "sources"]

XML_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    topic: str
    translate: Callable[[bytes, TranslationContext], CanonicalEvent]
    content_types: frozenset[str]
    file_suffix: str

    @property
    def content_type(self) -> str:
        """What `hub publish` declares for this source's documents."""
        return min(self.content_types)


def sources(settings: HubSettings) -> dict[str, Source]:
    """Every source system, by the name operators use (`hub publish --source NAME`)."""
    topics = settings.topics
    return {
        "koda": Source("koda", topics.in_koda, adapters.koda.translate, XML_TYPES, ".xml"),
    }
