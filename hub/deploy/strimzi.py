"""The Kafka cluster as Strimzi resources: the cluster, its node pool, every topic and every
user with its ACLs, from the same settings, policy and places as `hub acl` (see hub.access).

Strimzi's `kafka.strimzi.io/v1` API: KRaft only, nodes in `KafkaNodePool`s. The cluster's own
replication and controller listeners are TLS with client certificates (Strimzi does not offer
anything else there); the one client listener is TLS with SCRAM-SHA-512. The brokers' own
principals are super users by Strimzi's doing; `admin` is ours, for the people who run the
cluster and for `hub acl apply` / `hub kafka credentials`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final

from hub.access import (
    AclBinding,
    PatternType,
    Places,
    Principal,
    ResourceType,
    acl_bindings,
    place_topics,
    principals,
)
from hub.kafka.admin import TopicSpec
from hub.routing.policy import Policy
from hub.settings import HubSettings
from hub.topics import catalogue, place_topic_config, recipient_catalogue, replicas_of

__all__ = [
    "ADMIN",
    "API_VERSION",
    "BOOTSTRAP",
    "CA_SECRET",
    "CLIENT_PORT",
    "CLUSTER",
    "KAFKA_VERSION",
    "NAMESPACE",
    "cluster_resources",
    "kafka_operation",
    "topic_resources",
    "user_resources",
]

API_VERSION: Final = "kafka.strimzi.io/v1"
NAMESPACE: Final = "justishub"
CLUSTER: Final = "justishub"
# A version the Strimzi release of the deployment supports (its kafka-versions.yaml).
KAFKA_VERSION: Final = "4.3.0"
ADMIN: Final = "admin"
CLIENT_PORT: Final = 9093
# What Strimzi names the client bootstrap service and the cluster CA's public certificate.
BOOTSTRAP: Final = f"{CLUSTER}-kafka-bootstrap.{NAMESPACE}.svc:{CLIENT_PORT}"
CA_SECRET: Final = f"{CLUSTER}-cluster-ca-cert"
_BROKERS: Final = 3
_MIN_INSYNC: Final = 2
_DESCRIPTION: Final = "justishub.no/description"
# Strimzi's words for Kafka's pattern types.
_PATTERN: Final = {PatternType.LITERAL: "literal", PatternType.PREFIXED: "prefix"}


def cluster_resources() -> list[dict[str, Any]]:
    """The `Kafka` cluster and its one node pool of three combined brokers and controllers."""
    kafka = {
        "apiVersion": API_VERSION,
        "kind": "Kafka",
        "metadata": _metadata(CLUSTER),
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION,
                "listeners": [
                    {
                        "name": "tls",
                        "port": CLIENT_PORT,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                    }
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN]},
                "config": {
                    # Topics are made on purpose (KafkaTopic, the hub's own ensure), never
                    # by a typo in a producer's topic name.
                    "auto.create.topics.enable": False,
                    "default.replication.factor": _BROKERS,
                    "min.insync.replicas": _MIN_INSYNC,
                    "offsets.topic.replication.factor": _BROKERS,
                    "transaction.state.log.replication.factor": _BROKERS,
                    "transaction.state.log.min.isr": _MIN_INSYNC,
                    # An out-of-sync replica never becomes leader: that would lose records.
                    "unclean.leader.election.enable": False,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }
    pool = {
        "apiVersion": API_VERSION,
        "kind": "KafkaNodePool",
        "metadata": _metadata("nodes", cluster=True),
        "spec": {
            "replicas": _BROKERS,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": "100Gi",
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
            "resources": {
                "requests": {"cpu": "1", "memory": "4Gi"},
                "limits": {"memory": "4Gi"},
            },
        },
    }
    return [kafka, pool]


def topic_resources(settings: HubSettings, policy: Policy, places: Places) -> list[dict[str, Any]]:
    """A `KafkaTopic` for every topic the hub uses, per-place ones included, sorted by name."""
    specs = catalogue(settings) + recipient_catalogue(settings, policy)
    per_place = settings.routing.place_topic_partitions, replicas_of(settings)
    specs += [
        TopicSpec(name, *per_place, place_topic_config(settings))
        for name in place_topics(settings, policy, places)
    ]
    return [_topic(spec) for spec in sorted(specs, key=lambda s: s.name)]


def user_resources(settings: HubSettings, policy: Policy, places: Places) -> list[dict[str, Any]]:
    """A `KafkaUser` (SCRAM-SHA-512) per principal with its ACLs, and the admin super user."""
    by_user: defaultdict[str, list[AclBinding]] = defaultdict(list)
    for binding in acl_bindings(settings, policy, places):
        by_user[binding.user].append(binding)
    users = [_user(p, by_user[p.name]) for p in principals(settings, policy, places)]
    admin = {
        "apiVersion": API_VERSION,
        "kind": "KafkaUser",
        "metadata": _metadata(
            ADMIN, cluster=True, description="Super user of the brokers: runs the cluster"
        ),
        # A super user: ACLs would change nothing, so the User Operator manages none.
        "spec": {"authentication": {"type": "scram-sha-512"}},
    }
    return [admin, *users]


def kafka_operation(name: str) -> str:
    """Strimzi's spelling of a Kafka operation: IDEMPOTENT_WRITE → IdempotentWrite."""
    return "".join(part.capitalize() for part in name.split("_"))


def _topic(spec: TopicSpec) -> dict[str, Any]:
    config = dict(sorted(spec.config.items()))
    if spec.replication_factor >= _BROKERS:
        config["min.insync.replicas"] = str(_MIN_INSYNC)
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaTopic",
        "metadata": _metadata(spec.name, cluster=True),
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": spec.replication_factor,
            "config": config,
        },
    }


def _user(principal: Principal, bindings: Iterable[AclBinding]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaUser",
        "metadata": _metadata(principal.name, cluster=True, description=principal.description),
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": _acls(bindings)},
        },
    }


def _acls(bindings: Iterable[AclBinding]) -> list[dict[str, Any]]:
    """One rule per resource with all its operations, in the bindings' order."""
    grouped: dict[tuple[ResourceType, PatternType, str], list[str]] = {}
    for b in bindings:
        key = (b.resource_type, b.pattern_type, b.resource_name)
        grouped.setdefault(key, []).append(kafka_operation(b.operation.value))
    return [
        {"resource": _resource(*key), "operations": sorted(ops), "host": "*"}
        for key, ops in grouped.items()
    ]


def _resource(kind: ResourceType, pattern: PatternType, name: str) -> dict[str, str]:
    if kind is ResourceType.CLUSTER:
        return {"type": "cluster"}
    return {"type": kind.value.lower(), "name": name, "patternType": _PATTERN[pattern]}


def _metadata(
    name: str, *, cluster: bool = False, description: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if cluster:
        metadata["labels"] = {"strimzi.io/cluster": CLUSTER}
    if description:
        metadata["annotations"] = {_DESCRIPTION: description}
    return metadata
