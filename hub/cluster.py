"""The cluster as the hub needs it: its topics, the ACLs the routing policy implies, and the
principals' credentials. What `hub topics`, `hub acl` and `hub kafka credentials` do, as plain
functions over the settings; every call acts as the admin principal the settings name.

One source of truth: the routing policy says which recipient topics exist and whose they are,
`hub.access` turns it and the settings into principals and ACL bindings, and this module makes
the cluster match. Nothing here is done at import time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from hub.access import AclBinding, Principal, Role, acl_bindings, load_places, principals
from hub.kafka.accounts import (
    AclChange,
    apply_acls,
    cluster_acls,
    new_password,
    plan_acls,
    scram_users,
    set_scram_password,
)
from hub.kafka.admin import broker_count, describe_topics, ensure_topics
from hub.kafka.connection import KafkaConnection
from hub.kafka.credentials import ADMIN, read_password, store_password
from hub.routing.policy import Policy, load_policy
from hub.settings import Environment, HubSettings
from hub.topics import TopicFinding, catalogue, check_topics, recipient_catalogue
from schemas.errors import PermanentError, Reason

__all__ = [
    "ClusterReady",
    "Credential",
    "check_cluster_topics",
    "credential",
    "credentials_folder",
    "desired_acls",
    "known_principals",
    "plan_cluster_acls",
    "prepare_cluster",
]


@dataclass(frozen=True)
class Credential:
    principal: str
    connection: KafkaConnection
    # True when this call made the credential (or gave it a new password).
    created: bool


@dataclass(frozen=True)
class ClusterReady:
    topics_created: list[str]
    acls: AclChange
    credentials: list[Credential]


def _policy(settings: HubSettings) -> Policy:
    return load_policy(settings.routing.policy_path)


def known_principals(settings: HubSettings) -> list[Principal]:
    places = load_places(settings.routing.municipalities_path)
    return principals(settings, _policy(settings), places)


def desired_acls(settings: HubSettings) -> list[AclBinding]:
    places = load_places(settings.routing.municipalities_path)
    return acl_bindings(settings, _policy(settings), places)


def plan_cluster_acls(settings: HubSettings) -> AclChange:
    """What `hub acl apply` would change."""
    return plan_acls(cluster_acls(settings.kafka_connection()), desired_acls(settings))


def prepare_cluster(settings: HubSettings) -> ClusterReady:
    """Topics, ACLs and (outside production) the local principals' credentials, as the policy
    and settings say. Idempotent."""
    admin = settings.kafka_connection()
    specs = catalogue(settings) + recipient_catalogue(settings, _policy(settings))
    created = asyncio.run(ensure_topics(admin, specs, timeout=30.0))
    change = apply_acls(admin, desired_acls(settings))
    made: list[Credential] = []
    if settings.env is not Environment.PRODUCTION:
        made = [credential(settings, p.name, adopt=True) for p in _local_principals(settings)]
    return ClusterReady(created, change, made)


def check_cluster_topics(settings: HubSettings) -> list[TopicFinding]:
    """`hub topics check`: every topic the hub uses against what it needs."""
    return asyncio.run(_check(settings, settings.kafka_connection()))


async def _check(settings: HubSettings, connection: KafkaConnection) -> list[TopicFinding]:
    specs = catalogue(settings) + recipient_catalogue(settings, _policy(settings))
    found = await describe_topics(connection, [s.name for s in specs])
    return check_topics(settings, specs, found, await broker_count(connection))


def credential(
    settings: HubSettings, principal: str, *, rotate: bool = False, adopt: bool = False
) -> Credential:
    """`principal`'s connection, its SCRAM credential made on the cluster when missing (with a
    random password kept, 0600, in the local credentials folder). `adopt`: a principal whose
    password this folder does not keep gets a new one (`hub topics ensure` outside production:
    the local folder is where a developer's clients find their passwords)."""
    admin = settings.kafka_connection()
    folder = settings.local_kafka_dir / "credentials"
    if principal != ADMIN and principal not in {p.name for p in known_principals(settings)}:
        raise PermanentError(
            f"{principal} is no principal of this hub's policy; `hub acl plan` lists them",
            reason=Reason.NO_CREDENTIALS,
        )
    stored = read_password(folder, principal)
    exists = principal == ADMIN or principal in scram_users(admin)
    created = False
    if rotate or stored is None or not exists:
        if principal == ADMIN:
            raise PermanentError(
                "the admin's password is set when the cluster is formatted and kept in "
                f"{folder}; it cannot be made here",
                reason=Reason.NO_CREDENTIALS,
            )
        if exists and stored is None and not (rotate or adopt):
            raise PermanentError(
                f"{principal} has a credential on the cluster but its password is not kept in "
                f"{folder}; `--rotate` gives it a new one",
                reason=Reason.NO_CREDENTIALS,
            )
        stored = new_password()
        set_scram_password(admin, principal, stored)
        store_password(folder, principal, stored)
        created = True
    return Credential(principal, admin.as_user(principal, stored), created)


def _local_principals(settings: HubSettings) -> list[Principal]:
    # Every principal but the per-municipality ones: there are hundreds, and a developer asks
    # for the one they need (`hub kafka credentials recipient.municipality.0301`).
    return [
        p
        for p in known_principals(settings)
        if not (p.role is Role.RECIPIENT and p.name.startswith("recipient.municipality."))
    ]


def credentials_folder(settings: HubSettings) -> Path:
    return settings.local_kafka_dir / "credentials"
