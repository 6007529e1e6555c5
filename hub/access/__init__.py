"""Who may do what on the Kafka cluster: principals and ACL bindings, derived from the settings
and the routing policy. Pure data; applying it to a cluster is someone else's job (`hub acl`,
the Strimzi `KafkaUser` resources of `hub deploy render`)."""

from hub.access.derive import (
    HUB,
    OPERATOR,
    RecipientAccess,
    acl_bindings,
    load_places,
    place_topics,
    places_of,
    principals,
    recipient_access,
)
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
    permits,
)

__all__ = [
    "CLUSTER_RESOURCE",
    "HUB",
    "OPERATOR",
    "AclBinding",
    "Operation",
    "PatternType",
    "Place",
    "Places",
    "Principal",
    "RecipientAccess",
    "ResourceType",
    "Role",
    "acl_bindings",
    "load_places",
    "permits",
    "place_topics",
    "places_of",
    "principals",
    "recipient_access",
]
