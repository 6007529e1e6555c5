"""Who may do what on the cluster, derived from the settings and the routing policy.

The policy says which recipient topics exist and whose they are; the settings name the hub's
own topics and consumer groups. Everything here is a pure function of those and of the places
(municipalities, health regions) the routing can deliver to, so `hub acl plan`, the Strimzi
`KafkaUser` resources and the tests all see the same bindings.

The principals:

- `hub`: the pipeline's stages in `hub run`, with everything that runs inside that process: the
  HTTP ingress (writes the inbound topics), the deadline watcher, the audit writer and its
  projection, the consumer-lag watch, and the operations console (its replays write the topics
  dead-lettered inputs came from).
- `operator`: `hub dlq`, `hub audit`, `hub alerts` and `hub policy explain`, run by a person.
  Kept apart from `hub` on purpose. It reads what those tools show (dead letters and their
  state, the audit trail and its anchors, alerts, canonical events) and writes only the
  dead-letter state, its own audit chain, and replays back onto the topics the hub takes its
  inputs from. It can never write an agency's `out.*` topic, so no operator tool can itself
  disclose anything to anyone: every disclosure still passes a recipient stage and its policy.
  And an operator's action shows in the broker's logs under a principal of its own, not
  mixed into the pipeline's traffic.
- `source.<name>`: a source system publishes to its own inbound topic and reads nothing.
- `recipient.<recipient id>`: one per recipient topic (`recipient.nav`,
  `recipient.municipality.0301`, …): reads its own `out.*` topic with consumer groups named
  after itself, and writes its own `receipts.*` topic. Nothing else.

The admin principal (`hub acl apply`, topic set-up) and the brokers' own principal are super
users configured on the brokers; they have no bindings here.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.access.model import (
    CLUSTER_RESOURCE,
    AclBinding,
    Operation,
    PatternType,
    Place,
    Places,
    Principal,
    ResourceType,
    Role,
)
from hub.reference import MunicipalityRegister
from hub.reference.units import HEALTH_REGIONS
from hub.routing.policy import PLACE_OF, Policy
from hub.settings import HubSettings
from hub.sources import sources
from hub.topics import catalogue, recipient_catalogue
from schemas.recipients import RecipientKind

__all__ = [
    "HUB",
    "OPERATOR",
    "RecipientAccess",
    "acl_bindings",
    "load_places",
    "place_topics",
    "places_of",
    "principals",
    "recipient_access",
]

HUB: Final = "hub"
OPERATOR: Final = "operator"

_REGION_NAMES: Final = {
    "sor-ost": "Helse Sør-Øst",
    "vest": "Helse Vest",
    "midt": "Helse Midt-Norge",
    "nord": "Helse Nord",
}
_READ: Final = (Operation.READ, Operation.DESCRIBE)
_WRITE: Final = (Operation.WRITE, Operation.DESCRIBE)
# Topic resource: (pattern, name) — a policy template with a placeholder becomes a prefix.
_Resource = tuple[PatternType, str]


def places_of(municipalities: MunicipalityRegister) -> Places:
    """The current municipalities of the register, and every health region."""
    return Places(
        municipalities=tuple(Place(m.code, m.name) for m in municipalities.current()),
        health_regions=tuple(
            Place(code, _REGION_NAMES.get(code, code)) for code in sorted(HEALTH_REGIONS)
        ),
    )


def load_places(path: Path) -> Places:
    """`places_of` the municipality register file at `path`."""
    return places_of(MunicipalityRegister.load(path))


@dataclass(frozen=True, slots=True)
class RecipientAccess:
    """One recipient principal and its topics, with the recipient prefix in front."""

    recipient: str  # "municipality.0301", as the hub's stages and audit trail name it
    kind: RecipientKind
    topics: tuple[str, ...]  # its `out.*` topics
    receipts: str

    @property
    def principal(self) -> str:
        return f"recipient.{self.recipient}"


def recipient_access(
    settings: HubSettings, policy: Policy, places: Places
) -> list[RecipientAccess]:
    """Every recipient topic's owner, sorted by principal name."""
    prefix = settings.topics.recipient_prefix
    found: list[RecipientAccess] = []
    for kind, spec in policy.recipients.items():
        templates = sorted({rule.topic for rule in policy.rules_for(kind)})
        placeholder = PLACE_OF[kind]
        for place in _places_for(placeholder, places):
            values = {placeholder: place.code} if placeholder and place else {}
            recipient = f"{kind.value}.{place.code}" if place else kind.value
            topics = tuple(prefix + t.format(**values) for t in templates)
            receipts = prefix + spec.receipts.format(**values)
            found.append(RecipientAccess(recipient, kind, topics, receipts))
    return sorted(found, key=lambda r: r.principal)


def place_topics(settings: HubSettings, policy: Policy, places: Places) -> list[str]:
    """The per-place topics (out and receipts) of every place, sorted; the hub makes them on
    first use, a deployment may make them ahead."""
    fixed = {spec.name for spec in recipient_catalogue(settings, policy)}
    names = {t for r in recipient_access(settings, policy, places) for t in (*r.topics, r.receipts)}
    return sorted(names - fixed)


def principals(settings: HubSettings, policy: Policy, places: Places) -> list[Principal]:
    """Every principal the cluster knows besides its super users, sorted by name."""
    found = [
        Principal(HUB, Role.HUB, "The hub's stages, HTTP ingress and operations console"),
        Principal(OPERATOR, Role.OPERATOR, "Operators' tools: hub dlq, hub audit, hub alerts"),
    ]
    found += [
        Principal(f"source.{s.name}", Role.SOURCE, f"Source system {s.name}: publishes {s.topic}")
        for s in sources(settings).values()
    ]
    names = {m.code: m.name for m in places.municipalities} | {
        r.code: r.name for r in places.health_regions
    }
    for access in recipient_access(settings, policy, places):
        what = policy.recipients[access.kind].description
        place = access.recipient.partition(".")[2]
        where = f" {names[place]} ({place})" if place else ""
        found.append(Principal(access.principal, Role.RECIPIENT, f"{what}{where}"))
    return sorted(found, key=lambda p: p.name)


def acl_bindings(settings: HubSettings, policy: Policy, places: Places) -> list[AclBinding]:
    """Every ALLOW binding of every principal, sorted, without duplicates."""
    bindings = {
        *_hub(settings, policy),
        *_operator(settings, policy),
        *_sources(settings),
        *_recipients(settings, policy, places),
    }
    return sorted(bindings)


# --- the hub ------------------------------------------------------------------------------


def _hub(settings: HubSettings, policy: Policy) -> Iterator[AclBinding]:
    topics, user = settings.topics, f"User:{HUB}"
    inbound = [_literal(s.topic) for s in sources(settings).values()]
    outs, receipts = _recipient_resources(settings, policy)
    # Stages read these with their groups; followers, projection, console and checks without.
    reads = [
        *inbound,
        *receipts,
        *map(_literal, (topics.events, topics.deliveries, topics.parking, topics.audit)),
        *map(_literal, (topics.dlq, topics.dlq_state, topics.alerts)),
        # The periodic check of the whole trail (`audit.verify_every_s`).
        _literal(topics.audit_checkpoints),
        # Each recipient stage follows every person's consent in force.
        _literal(topics.consent),
    ]
    # The stages' outputs, the audit chain, the ingress (inbound topics) and the console's
    # replays (back to inbound, canonical and receipts topics) and dead-letter state.
    writes = [
        *inbound,
        *outs,
        *receipts,
        *map(_literal, (topics.events, topics.dlq, topics.parking, topics.dlq_state)),
        *map(_literal, (topics.audit, topics.audit_checkpoints, topics.deliveries, topics.alerts)),
        _literal(topics.consent),
    ]
    # Fixed topics are ensured at every start; per-place ones are made on first use.
    created = [_literal(spec.name) for spec in catalogue(settings)]
    created += [*outs, *receipts]
    # The start-up check of every topic's settings reads their configuration.
    described = {*reads, *writes, *created}
    yield from _topics(user, reads, _READ)
    yield from _topics(user, writes, _WRITE)
    yield from _topics(user, created, (Operation.CREATE,))
    yield from _topics(user, described, (Operation.DESCRIBE_CONFIGS,))
    # The trailing dot: this deployment's groups, not another's whose prefix starts alike.
    group = f"{settings.kafka.group_prefix}."
    yield from _groups(user, [(PatternType.PREFIXED, group)], _READ)
    # No DESCRIBE on the cluster: the consumer-lag watch lists groups, and Kafka answers a
    # principal without it with the groups it may describe, which are exactly the hub's own.
    # DESCRIBE on the cluster would also show it every principal's ACLs.
    yield from _cluster(user, Operation.IDEMPOTENT_WRITE)


def _operator(settings: HubSettings, policy: Policy) -> Iterator[AclBinding]:
    topics, user = settings.topics, f"User:{OPERATOR}"
    inbound = [_literal(s.topic) for s in sources(settings).values()]
    _, receipts = _recipient_resources(settings, policy)
    # dlq list/show, audit verify/rebuild, alerts, policy explain (finds the canonical event).
    # The consent in force: `hub policy explain` shows what a decision made now would use.
    reads = map(
        _literal,
        (
            topics.dlq,
            topics.dlq_state,
            topics.audit,
            topics.audit_checkpoints,
            topics.alerts,
            topics.consent,
        ),
    )
    # Its own audit chain, the entries' state, and replays onto the topic an entry came from:
    # inbound (ingest), canonical events (recipient stages) or receipts (receipts stage).
    writes = [
        *map(_literal, (topics.dlq_state, topics.audit, topics.audit_checkpoints, topics.events)),
        *inbound,
        *receipts,
    ]
    yield from _topics(user, [*reads, _literal(topics.events)], _READ)
    yield from _topics(user, writes, _WRITE)
    yield from _cluster(user, Operation.IDEMPOTENT_WRITE)


def _sources(settings: HubSettings) -> Iterator[AclBinding]:
    for source in sources(settings).values():
        user = f"User:source.{source.name}"
        yield from _topics(user, [_literal(source.topic)], _WRITE)
        yield from _cluster(user, Operation.IDEMPOTENT_WRITE)


def _recipients(settings: HubSettings, policy: Policy, places: Places) -> Iterator[AclBinding]:
    for access in recipient_access(settings, policy, places):
        user = f"User:{access.principal}"
        yield from _topics(user, map(_literal, access.topics), _READ)
        # Its own name, or its name and a dot: `recipient.nav-x` is not `recipient.nav`'s.
        groups = [_literal(access.principal), (PatternType.PREFIXED, f"{access.principal}.")]
        yield from _groups(user, groups, _READ)
        yield from _topics(user, [_literal(access.receipts)], _WRITE)


# --- helpers ------------------------------------------------------------------------------


def _places_for(placeholder: str | None, places: Places) -> list[Place | None]:
    if placeholder is None:
        return [None]
    return list(places.municipalities if placeholder == "municipality" else places.health_regions)


def _recipient_resources(
    settings: HubSettings, policy: Policy
) -> tuple[list[_Resource], list[_Resource]]:
    """Every recipient's `out.*` and `receipts.*` topics as resources: literal names, and a
    prefix for a template with a place in it."""
    prefix = settings.topics.recipient_prefix
    outs = {_template(prefix, rule.topic) for rule in policy.rules}
    receipts = {_template(prefix, spec.receipts) for spec in policy.recipients.values()}
    return sorted(outs), sorted(receipts)


def _template(prefix: str, template: str) -> _Resource:
    literal = next(iter(string.Formatter().parse(template)))[0]
    if literal == template:
        return PatternType.LITERAL, prefix + template
    return PatternType.PREFIXED, prefix + literal


def _literal(name: str) -> _Resource:
    return PatternType.LITERAL, name


def _topics(
    user: str, resources: Iterable[_Resource], operations: Iterable[Operation]
) -> Iterator[AclBinding]:
    return _grant(user, ResourceType.TOPIC, resources, tuple(operations))


def _groups(
    user: str, resources: Iterable[_Resource], operations: Iterable[Operation]
) -> Iterator[AclBinding]:
    return _grant(user, ResourceType.GROUP, resources, tuple(operations))


def _grant(
    user: str,
    kind: ResourceType,
    resources: Iterable[_Resource],
    operations: tuple[Operation, ...],
) -> Iterator[AclBinding]:
    for pattern, name in resources:
        for op in operations:
            yield AclBinding(user, kind, pattern, name, op)


def _cluster(user: str, *operations: Operation) -> Iterator[AclBinding]:
    for op in operations:
        yield AclBinding(user, ResourceType.CLUSTER, PatternType.LITERAL, CLUSTER_RESOURCE, op)
