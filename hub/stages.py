"""The pipeline, stage by stage, in the order a document meets it.

    source topic ──ingest.<source>──▶ hub.events.v1 ──route──▶ every entitled recipient's topic
                                                                          │
    hub.deliveries.v1 ◀──receipts── each recipient's receipts topic ◀─────┘

A stage is a consumer group over one input (a topic, or a pattern matching topics made on first
use), a step over its records, and the topics its outputs go to. Every stage also writes the
dead-letter topic, its parking state and the audit trail. This table is where the wiring
(`hub.bootstrap`) takes each stage's input, group and description from; the tests hold the
hub's access rights and its topic catalogue to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.recipients.receipts import ReceiptTopics
from hub.routing.policy import Policy
from hub.settings import HubSettings
from hub.sources import Source, sources

__all__ = ["Stage", "StageKind", "stages"]


class StageKind(StrEnum):
    # A source's documents, parsed, checked and translated into signed canonical events.
    INGEST = "ingest"
    # The canonical events, each read once and routed to every recipient kind the policy
    # entitles (`hub.recipients.fanout`).
    ROUTE = "route"
    # The recipients' receipts, checked against the hub's record of what it sent.
    RECEIPTS = "receipts"


@dataclass(frozen=True, slots=True)
class Stage:
    kind: StageKind
    # What metrics, logs and the table name it by (`ingest.koda`, `route`, `receipts`).
    name: str
    # Its consumer group: the name after the deployment's prefix.
    group: str
    # The topic it reads; with `pattern`, only the name its handler goes by.
    reads: str
    # A regular expression for inputs made on first use (the receipts topics of each place).
    pattern: str | None
    # Where its outputs go, besides the dead-letter, parking and audit topics every stage
    # writes. A `{place}` in a name stands for each place's own topic, made on first use.
    writes: tuple[str, ...]
    description: str
    # The source an ingest stage reads for.
    source: Source | None = None


def stages(settings: HubSettings, policy: Policy) -> list[Stage]:
    """Every stage of a hub with these settings and this routing policy, in the document's
    order."""
    return [
        *(_ingest(settings, source) for source in sources(settings).values()),
        _route(settings, policy),
        _receipts(settings, policy),
    ]


def _group(settings: HubSettings, name: str) -> str:
    return f"{settings.kafka.group_prefix}.{name}"


def _ingest(settings: HubSettings, source: Source) -> Stage:
    name = f"ingest.{source.name}"
    return Stage(
        kind=StageKind.INGEST,
        name=name,
        group=_group(settings, name),
        reads=source.topic,
        pattern=None,
        writes=(settings.topics.events,),
        description=f"Documents from {source.name}, translated into canonical events.",
        source=source,
    )


def _route(settings: HubSettings, policy: Policy) -> Stage:
    topics = settings.topics
    recipients = sorted({topics.recipient_prefix + rule.topic for rule in policy.rules})
    return Stage(
        kind=StageKind.ROUTE,
        name="route",
        group=_group(settings, "route"),
        reads=topics.events,
        pattern=None,
        writes=(*recipients, topics.deliveries, topics.consent, topics.alerts),
        description="Canonical events for every recipient: routed by the policy, projected, "
        "signed.",
    )


def _receipts(settings: HubSettings, policy: Policy) -> Stage:
    topics = settings.topics
    return Stage(
        kind=StageKind.RECEIPTS,
        name="receipts",
        group=_group(settings, "receipts"),
        reads=f"{topics.recipient_prefix}receipts",
        pattern=ReceiptTopics(policy, topics.recipient_prefix).pattern,
        writes=(topics.deliveries, topics.alerts),
        description="Recipients' receipts: checked, recorded, and resolving their alerts.",
    )
