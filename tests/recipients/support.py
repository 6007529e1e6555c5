"""Running the recipient steps in memory: real policy, real registers, no broker."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hub.bootstrap import Routing, load_routing
from hub.pipeline.headers import REPLAY_ID
from hub.pipeline.ingest import canonical_record
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.recipients.base import Note, StageContext, recipient_step
from hub.recipients.correctional import Correctional
from hub.recipients.health import Health
from hub.recipients.municipality import Municipality
from hub.recipients.nav import Nav
from hub.recipients.person import PersonRecipient
from hub.recipients.police_register import PoliceRegister
from hub.routing.consent import ConsentBook, StagedConsent
from hub.routing.deliveries import DeliveryIndex, StagedIndex
from hub.routing.policy import Policy
from hub.settings import HubSettings
from schemas.events import Envelope
from schemas.recipients import RecipientKind

__all__ = ["NOW", "Routed", "Router", "leaf_paths"]

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def leaf_paths(document: Any, prefix: str = "") -> set[str]:
    """Every path of `document` that ends in a value (a list counts as one value)."""
    if not isinstance(document, dict):
        return {prefix.rstrip(".")}
    paths: set[str] = set()
    for key, value in document.items():
        paths |= leaf_paths(value, f"{prefix}{key}.")
    return paths


@dataclass
class Routed:
    outputs: list[OutboundRecord]
    notes: list[Note]

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in self.outputs if r.header("hub-recipient")]


@dataclass
class Router:
    """The four recipient steps over one shared in-memory delivery index."""

    routing: Routing = field(default_factory=lambda: load_routing(HubSettings()))
    index: DeliveryIndex = field(default_factory=DeliveryIndex)
    consents: ConsentBook = field(default_factory=ConsentBook)
    # The decision's clock: consent in force, lead times and deadlines are measured to it.
    now: dt.datetime = NOW
    offset: int = 0

    @property
    def policy(self) -> Policy:
        return self.routing.policy

    def contracts(self) -> Iterator[Any]:
        yield PoliceRegister()
        yield Nav()
        yield Municipality(self.routing.municipalities)
        yield Health(self.routing.units)
        yield Correctional()
        yield PersonRecipient(self.policy, self.routing.municipalities, self.routing.units)

    def route(self, event: Envelope, kind: RecipientKind, *, replay: bool = False) -> Routed:
        """Run `kind`'s step on `event` as the next record of the canonical topic (`replay`: as
        an operator's replay of it); raises what the step raises."""
        contract = next(c for c in self.contracts() if c.kind is kind)
        staged = StagedIndex(self.index)
        consent = StagedConsent(self.consents, "hub.consent.v1")
        ctx = StageContext(
            policy=self.policy,
            index=staged,
            deliveries_topic="hub.deliveries.v1",
            alerts_topic="hub.alerts.v1",
            topic_prefix="",
            verify=lambda _record: None,
            sign=lambda record: record,
            clock=lambda: self.now,
            consent=consent,
        )
        record = self.inbound(event, replay=replay)
        effects = recipient_step(contract, ctx)(record)
        staged.commit()
        consent.commit()
        return Routed(list(effects.outputs), list(effects.notes))

    def inbound(self, event: Envelope, *, replay: bool = False) -> InboundRecord:
        """`event` as the next record of the canonical topic."""
        out = canonical_record(event, "hub.events.v1")  # type: ignore[arg-type]  # any event
        self.offset += 1
        headers = (*out.headers, (REPLAY_ID, b"a-replay")) if replay else out.headers
        return InboundRecord(Position(out.topic, 0, self.offset), out.key, out.value, headers)
