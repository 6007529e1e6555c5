"""The access model's vocabulary: principals, and ACL bindings in Kafka's own terms.

A binding always allows: the cluster denies whatever no binding allows
(`allow.everyone.if.no.acl.found=false`), so a principal's bindings are the whole of what it may
do. Names are Kafka's (`AclOperation`, `ResourceType`, `PatternType`), upper snake case, so
that a binding reads the same here, in `kafka-acls.sh` output and in a Strimzi `KafkaUser`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "CLUSTER_RESOURCE",
    "AclBinding",
    "Operation",
    "PatternType",
    "Place",
    "Places",
    "Principal",
    "ResourceType",
    "Role",
    "permits",
]

# Kafka names the one cluster resource so.
CLUSTER_RESOURCE: Final = "kafka-cluster"


class ResourceType(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"


class PatternType(StrEnum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(StrEnum):
    ALL = "ALL"
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DESCRIBE = "DESCRIBE"
    CLUSTER_ACTION = "CLUSTER_ACTION"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"


class Role(StrEnum):
    HUB = "hub"
    OPERATOR = "operator"
    SOURCE = "source"
    RECIPIENT = "recipient"


@dataclass(frozen=True, order=True, slots=True)
class AclBinding:
    """One ALLOW rule: `principal` may do `operation` on the resource, from `host`."""

    principal: str  # "User:hub"
    resource_type: ResourceType
    pattern_type: PatternType
    resource_name: str  # CLUSTER_RESOURCE for the cluster
    operation: Operation
    host: str = "*"

    @property
    def user(self) -> str:
        """The principal's name without Kafka's `User:` type."""
        return self.principal.removeprefix("User:")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # "recipient.municipality.0301"; the SCRAM user name
    role: Role
    description: str

    @property
    def kafka(self) -> str:
        return f"User:{self.name}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a per-place recipient is: a municipality number or a health region code."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Places:
    """Every place the routing can deliver to: the current municipalities of the register and
    the health regions. Each is one recipient principal and one pair of topics."""

    municipalities: tuple[Place, ...]
    health_regions: tuple[Place, ...]


# What Kafka's authorizer lets an ALLOW of the key stand in for as well.
_IMPLIES: Final[dict[Operation, frozenset[Operation]]] = {
    Operation.READ: frozenset({Operation.DESCRIBE}),
    Operation.WRITE: frozenset({Operation.DESCRIBE}),
    Operation.DELETE: frozenset({Operation.DESCRIBE}),
    Operation.ALTER: frozenset({Operation.DESCRIBE}),
    Operation.ALTER_CONFIGS: frozenset({Operation.DESCRIBE_CONFIGS}),
}


def permits(
    bindings: Iterable[AclBinding],
    principal: str,
    operation: Operation,
    resource_type: ResourceType,
    name: str,
) -> bool:
    """Whether `bindings` let `principal` (`User:…`) do `operation` on the named resource, as
    Kafka's authorizer decides it for ALLOW rules (LITERAL `*` matches every name)."""
    return any(
        binding.principal == principal
        and binding.resource_type is resource_type
        and _matches(binding, name)
        and (binding.operation in (operation, Operation.ALL) or _implied(binding, operation))
        for binding in bindings
    )


def _matches(binding: AclBinding, name: str) -> bool:
    if binding.pattern_type is PatternType.PREFIXED:
        return name.startswith(binding.resource_name)
    return binding.resource_name in (name, "*")


def _implied(binding: AclBinding, operation: Operation) -> bool:
    return operation in _IMPLIES.get(binding.operation, frozenset())
