"""The access model derived from the bundled policy and register: who may do what."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest

from hub.access import (
    CLUSTER_RESOURCE,
    AclBinding,
    Operation,
    PatternType,
    Places,
    ResourceType,
    Role,
    acl_bindings,
    load_places,
    permits,
    place_topics,
    principals,
    recipient_access,
)
from hub.reference import MunicipalityRegister
from hub.routing.policy import Policy, load_policy
from hub.settings import Environment, HubSettings, TopicSettings
from hub.topics import catalogue, recipient_catalogue

R, W, D = Operation.READ, Operation.WRITE, Operation.DESCRIBE
TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER


@cache
def _settings(prefix: str = "") -> HubSettings:
    return HubSettings(env=Environment.TEST, topics=TopicSettings(recipient_prefix=prefix))


@cache
def _policy() -> Policy:
    return load_policy(_settings().routing.policy_path)


@cache
def _places() -> Places:
    return load_places(_settings().routing.municipalities_path)


@cache
def _bindings(prefix: str = "") -> tuple[AclBinding, ...]:
    return tuple(acl_bindings(_settings(prefix), _policy(), _places()))


@cache
def _by_principal() -> dict[str, tuple[AclBinding, ...]]:
    grouped: defaultdict[str, list[AclBinding]] = defaultdict(list)
    for binding in _bindings():
        grouped[binding.principal].append(binding)
    return {name: tuple(found) for name, found in grouped.items()}


def may(user: str, op: Operation, kind: ResourceType, name: str) -> bool:
    principal = f"User:{user}"
    return permits(_by_principal().get(principal, ()), principal, op, kind, name)


# (principal, operation, resource type, resource name, allowed)
MATRIX = [
    ("source.koda", W, TOPIC, "in.koda.v1", True),
    ("source.koda", Operation.IDEMPOTENT_WRITE, CLUSTER, CLUSTER_RESOURCE, True),
    ("source.koda", R, TOPIC, "in.koda.v1", False),
    ("source.koda", W, TOPIC, "in.court.v1", False),
    ("source.koda", W, TOPIC, "hub.events.v1", False),
    ("source.court", W, TOPIC, "in.court.v1", True),
    ("source.police", W, TOPIC, "in.police.v1", True),
    ("source.police", W, TOPIC, "in.koda.v1", False),
    ("recipient.nav", R, TOPIC, "out.nav.v1", True),
    ("recipient.nav", D, TOPIC, "out.nav.v1", True),
    ("recipient.nav", W, TOPIC, "out.nav.v1", False),
    ("recipient.nav", W, TOPIC, "receipts.nav.v1", True),
    ("recipient.nav", R, TOPIC, "receipts.nav.v1", False),
    ("recipient.nav", R, GROUP, "recipient.nav", True),
    ("recipient.nav", R, GROUP, "recipient.nav.benefits", True),
    ("recipient.nav", R, GROUP, "recipient.nav-x", False),
    ("recipient.nav", R, GROUP, "justishub.route.nav", False),
    ("recipient.nav", R, TOPIC, "out.police-register.v1", False),
    ("recipient.nav", W, TOPIC, "receipts.police-register.v1", False),
    ("recipient.nav", Operation.CREATE, TOPIC, "out.nav.v1", False),
    ("recipient.police-register", R, TOPIC, "out.police-register.v1", True),
    ("recipient.municipality.0301", R, TOPIC, "out.municipality.0301.v1", True),
    ("recipient.municipality.0301", W, TOPIC, "receipts.municipality.0301.v1", True),
    ("recipient.municipality.0301", R, TOPIC, "out.municipality.5001.v1", False),
    ("recipient.municipality.0301", W, TOPIC, "receipts.municipality.5001.v1", False),
    ("recipient.municipality.0301", R, GROUP, "recipient.municipality.0301.case", True),
    ("recipient.municipality.0301", R, GROUP, "recipient.municipality.03011", False),
    ("recipient.health.vest", R, TOPIC, "out.health.vest.v1", True),
    ("recipient.health.vest", R, TOPIC, "out.health.nord.v1", False),
    ("hub", R, TOPIC, "in.koda.v1", True),
    ("hub", R, TOPIC, "hub.events.v1", True),
    ("hub", W, TOPIC, "hub.events.v1", True),
    ("hub", W, TOPIC, "out.municipality.0301.v1", True),
    ("hub", Operation.CREATE, TOPIC, "out.municipality.0301.v1", True),
    ("hub", Operation.CREATE, TOPIC, "receipts.health.midt.v1", True),
    ("hub", R, TOPIC, "receipts.municipality.0301.v1", True),
    ("hub", R, TOPIC, "out.nav.v1", False),
    ("hub", R, GROUP, "justishub.ingest.koda", True),
    ("hub", R, GROUP, "recipient.nav", False),
    # Listing groups needs no cluster DESCRIBE (Kafka lists those the principal may describe),
    # and cluster DESCRIBE would show every principal's ACLs.
    ("hub", D, CLUSTER, CLUSTER_RESOURCE, False),
    ("hub", D, GROUP, "justishub.route.nav", True),
    ("hub", Operation.ALTER, CLUSTER, CLUSTER_RESOURCE, False),
    ("hub", Operation.DELETE, TOPIC, "hub.audit.v1", False),
    ("operator", R, TOPIC, "hub.dlq.v1", True),
    ("operator", W, TOPIC, "hub.dlq.state.v1", True),
    ("operator", R, TOPIC, "hub.audit.checkpoints.v1", True),
    ("operator", W, TOPIC, "hub.audit.v1", True),
    ("operator", W, TOPIC, "in.police.v1", True),
    ("operator", W, TOPIC, "hub.events.v1", True),
    ("operator", W, TOPIC, "receipts.municipality.0301.v1", True),
    ("operator", W, TOPIC, "out.nav.v1", False),
    ("operator", W, TOPIC, "out.municipality.0301.v1", False),
    ("operator", R, TOPIC, "out.nav.v1", False),
    ("operator", W, TOPIC, "hub.dlq.v1", False),
    ("operator", R, GROUP, "justishub.ingest.koda", False),
    ("admin", R, TOPIC, "hub.events.v1", False),  # a super user on the brokers, not by ACL
]


@pytest.mark.parametrize(("user", "op", "kind", "name", "allowed"), MATRIX)
def test_who_may_do_what(
    user: str, op: Operation, kind: ResourceType, name: str, allowed: bool
) -> None:
    assert may(user, op, kind, name) is allowed


def test_only_the_hub_and_operators_read_the_hubs_own_topics() -> None:
    topics = _settings().topics
    internal = [topics.events, topics.dlq, topics.dlq_state, topics.audit, topics.audit_checkpoints]
    internal += [topics.deliveries, topics.alerts, topics.parking]
    readers = {
        name: {
            b.user
            for b in _bindings()
            if b.operation is R and permits([b], b.principal, R, TOPIC, name)
        }
        for name in internal
    }
    assert all(who <= {"hub", "operator"} for who in readers.values()), readers
    assert {"hub", "operator"} <= readers[topics.dlq]
    assert {"hub", "operator"} <= readers[topics.audit]


def test_no_recipient_reads_or_writes_another_recipients_topics() -> None:
    accesses = recipient_access(_settings(), _policy(), _places())
    every_topic = {t for a in accesses for t in (*a.topics, a.receipts)}
    for access in accesses:
        readable = {t for t in every_topic if may(access.principal, R, TOPIC, t)}
        writable = {t for t in every_topic if may(access.principal, W, TOPIC, t)}
        assert readable == set(access.topics), access.principal
        assert writable == {access.receipts}, access.principal


def test_sources_and_recipients_have_nothing_else() -> None:
    for binding in _bindings():
        if binding.user.startswith("source."):
            assert binding.operation is not R
            assert binding.resource_type is not GROUP
        if binding.user.startswith(("source.", "recipient.")):
            assert binding.pattern_type is PatternType.LITERAL or binding.resource_type is GROUP
            assert binding.operation in {R, W, D, Operation.IDEMPOTENT_WRITE}


def test_every_current_place_of_the_register_has_its_principal() -> None:
    settings = _settings()
    register = MunicipalityRegister.load(settings.routing.municipalities_path)
    names = {p.name for p in principals(settings, _policy(), _places())}
    for municipality in register:
        assert (f"recipient.municipality.{municipality.code}" in names) is municipality.current
    for region in ("sor-ost", "vest", "midt", "nord"):
        assert f"recipient.health.{region}" in names
    assert {"hub", "operator", "source.koda", "source.court", "source.police"} <= names
    fixed = {"recipient.nav", "recipient.police-register", "recipient.correctional"}
    assert fixed | {"recipient.person"} <= names
    # The places, the four regions, the four fixed recipients, hub and operator, three sources.
    assert len(names) == len(register.current()) + 4 + 4 + 2 + 3


def test_every_binding_belongs_to_a_known_principal_and_admin_has_none() -> None:
    known = {p.kafka for p in principals(_settings(), _policy(), _places())}
    assert {b.principal for b in _bindings()} == known
    roles = {p.name: p.role for p in principals(_settings(), _policy(), _places())}
    assert roles["operator"] is Role.OPERATOR
    assert roles["recipient.nav"] is Role.RECIPIENT


def test_the_hub_may_do_what_its_stages_do_on_every_topic_it_uses() -> None:
    settings, policy = _settings(), _policy()
    fixed = [spec.name for spec in catalogue(settings) + recipient_catalogue(settings, policy)]
    places = place_topics(settings, policy, _places())
    assert "out.municipality.0301.v1" in places
    assert "receipts.health.nord.v1" in places
    for name in fixed + places:
        for op in (W, D, Operation.CREATE, Operation.DESCRIBE_CONFIGS):
            assert may("hub", op, TOPIC, name), (op, name)
    topics = settings.topics
    consumed = [topics.in_koda, topics.in_court, topics.in_police, topics.events]
    consumed += [topics.deliveries, topics.parking, topics.audit, topics.dlq, topics.dlq_state]
    consumed += [topics.alerts, "receipts.nav.v1", "receipts.municipality.0301.v1"]
    assert all(may("hub", R, TOPIC, name) for name in consumed)
    for stage in ("ingest.koda", "route.municipality", "receipts"):
        assert may("hub", R, GROUP, f"{settings.kafka.group_prefix}.{stage}")
    assert may("hub", Operation.IDEMPOTENT_WRITE, CLUSTER, CLUSTER_RESOURCE)


def test_the_recipient_prefix_is_in_every_recipient_topic() -> None:
    bindings = _bindings("t1.")
    nav = [b for b in bindings if b.user == "recipient.nav" and b.resource_type is TOPIC]
    assert {b.resource_name for b in nav} == {"t1.out.nav.v1", "t1.receipts.nav.v1"}
    assert permits(bindings, "User:hub", W, TOPIC, "t1.out.municipality.0301.v1")
    assert not permits(bindings, "User:hub", W, TOPIC, "out.municipality.0301.v1")


def test_bindings_are_sorted_unique_and_the_same_every_time() -> None:
    first = acl_bindings(_settings(), _policy(), _places())
    again = acl_bindings(_settings(), _policy(), _places())
    assert first == again == sorted(set(first))
    names = [p.name for p in principals(_settings(), _policy(), _places())]
    assert names == sorted(set(names))
