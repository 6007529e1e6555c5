"""The source systems the hub takes documents from, and the adapter and contract of each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import adapters.court
import adapters.koda
import adapters.police
from adapters.context import TranslationContext
from hub.settings import HubSettings
from schemas.events import CanonicalEvent
from schemas.sources import POLICE_CUSTODY_V1
from schemas.xsd import DOMSTOL_RETTSKRAFTIG_DOM_V1, KODA_HENDELSE_V1

__all__ = ["JSON_TYPES", "XML_TYPES", "Source", "sources"]

XML_TYPES = frozenset({"application/xml", "text/xml"})
JSON_TYPES = frozenset({"application/json"})


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    topic: str
    translate: Callable[[bytes, TranslationContext], CanonicalEvent]
    content_types: frozenset[str]
    file_suffix: str
    # The published schema of the source format (XSD or JSON Schema), and what it carries.
    contract: Path
    description: str

    @property
    def principal(self) -> str:
        """The Kafka principal the source system publishes as: its own inbound topic only."""
        return f"source.{self.name}"

    @property
    def content_type(self) -> str:
        """What `hub publish` declares for this source's documents."""
        return min(self.content_types)


def sources(settings: HubSettings) -> dict[str, Source]:
    """Every source system, by the name operators use (`hub publish --source NAME`)."""
    topics = settings.topics
    return {
        source.name: source
        for source in (
            Source(
                "koda",
                topics.in_koda,
                adapters.koda.translate,
                XML_TYPES,
                ".xml",
                KODA_HENDELSE_V1,
                "The correctional case system (KODA): sentence execution, transfers, releases "
                "and escapes, one XML document per event.",
            ),
            Source(
                "court",
                topics.in_court,
                adapters.court.translate,
                XML_TYPES,
                ".xml",
                DOMSTOL_RETTSKRAFTIG_DOM_V1,
                "Court systems: one XML document per judgment that has become final and is "
                "to be executed.",
            ),
            Source(
                "police",
                topics.in_police,
                adapters.police.translate,
                JSON_TYPES,
                ".json",
                POLICE_CUSTODY_V1,
                "Police systems: remand custody started, extended and ended, one JSON "
                "document per event.",
            ),
        )
    }
