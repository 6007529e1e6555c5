"""Principals' SCRAM credentials and ACL bindings on the cluster, through librdkafka's admin API.

aiokafka's admin client has no ACL or SCRAM calls; confluent-kafka's does. Everything here acts
as the admin principal (a super user), is synchronous (the CLI's commands and the test fixtures
call it), and translates confluent-kafka's errors into ours before they leave:

    TransientError (broker_unavailable, timeout)      the cluster did not answer in time
    PermanentError (authentication_failed, not_authorized, internal_error)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding as RdAclBinding,
)
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from confluent_kafka.admin import (
    ResourceType as RdResourceType,
)
from pydantic import SecretStr

from hub.access import AclBinding, Operation, PatternType, ResourceType
from hub.kafka.connection import KafkaConnection
from schemas.errors import HubError, PermanentError, Reason, TransientError

__all__ = [
    "AclChange",
    "apply_acls",
    "cluster_acls",
    "grant_acls",
    "new_password",
    "plan_acls",
    "scram_users",
    "set_scram_password",
]

T = TypeVar("T")

_TIMEOUT_S = 30.0
# Kafka's default and minimum for SCRAM-SHA-512 is 4096; more makes guessing dearer.
_SCRAM_ITERATIONS = 8192


@dataclass(frozen=True)
class AclChange:
    """What makes the cluster's ACLs equal to the wanted ones."""

    add: tuple[AclBinding, ...]
    remove: tuple[AclBinding, ...]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def new_password() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(32))


def scram_users(admin: KafkaConnection) -> set[str]:
    """The users that have a SCRAM credential on the cluster."""

    def call(client: AdminClient) -> set[str]:
        described = client.describe_user_scram_credentials(request_timeout=_TIMEOUT_S)
        # Asked about no one in particular, it answers with one future for everyone.
        if isinstance(described, dict):
            return set(described)
        return set(_wait(described).keys())

    return _with_client(admin, "listing SCRAM users", call)


def set_scram_password(admin: KafkaConnection, user: str, password: SecretStr) -> None:
    """Create `user`'s SCRAM-SHA-512 credential, or replace its password."""

    def call(client: AdminClient) -> None:
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, _SCRAM_ITERATIONS)
        upsert = UserScramCredentialUpsertion(
            user, info, password.get_secret_value().encode(), None
        )
        futures = client.alter_user_scram_credentials([upsert], request_timeout=_TIMEOUT_S)
        for future in futures.values():
            _wait(future)

    _with_client(admin, f"setting the SCRAM credential of {user}", call)


def cluster_acls(admin: KafkaConnection) -> set[AclBinding]:
    """Every ALLOW binding on the cluster (the hub never makes DENY bindings)."""

    def call(client: AdminClient) -> set[AclBinding]:
        everything = AclBindingFilter(
            RdResourceType.ANY,
            None,  # type: ignore[arg-type]  # librdkafka reads None as "any name"
            ResourcePatternType.ANY,
            None,  # type: ignore[arg-type]  # any principal
            None,  # type: ignore[arg-type]  # any host
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        found = _wait(client.describe_acls(everything, request_timeout=_TIMEOUT_S))
        return {ours for binding in found if (ours := _ours(binding)) is not None}

    return _with_client(admin, "reading the cluster's ACLs", call)


def plan_acls(current: Iterable[AclBinding], wanted: Iterable[AclBinding]) -> AclChange:
    have, want = set(current), set(wanted)
    return AclChange(add=tuple(sorted(want - have)), remove=tuple(sorted(have - want)))


def apply_acls(admin: KafkaConnection, wanted: Iterable[AclBinding]) -> AclChange:
    """Make the cluster's ACLs exactly `wanted`: add what is missing, remove what no longer
    follows from the policy. Idempotent; returns what it changed."""
    change = plan_acls(cluster_acls(admin), wanted)
    if change.empty:
        return change

    def call(client: AdminClient) -> None:
        if change.add:
            created = client.create_acls(
                [_theirs(b) for b in change.add], request_timeout=_TIMEOUT_S
            )
            for future in created.values():
                _wait(future)
        if change.remove:
            filters = [_filter(b) for b in change.remove]
            for future in client.delete_acls(filters, request_timeout=_TIMEOUT_S).values():
                _wait(future)

    _with_client(admin, "changing the cluster's ACLs", call)
    return change


def grant_acls(admin: KafkaConnection, bindings: Iterable[AclBinding]) -> None:
    """Add `bindings` and touch no other: for principals outside the policy (tests, tools)."""
    wanted = [_theirs(b) for b in bindings]

    def call(client: AdminClient) -> None:
        for future in client.create_acls(wanted, request_timeout=_TIMEOUT_S).values():
            _wait(future)

    _with_client(admin, "adding ACLs", call)


# --- confluent-kafka's terms and ours ------------------------------------------------------


def _theirs(binding: AclBinding) -> RdAclBinding:
    return RdAclBinding(
        RdResourceType[_RESOURCE_TYPES.get(binding.resource_type, binding.resource_type.value)],
        binding.resource_name,
        ResourcePatternType[binding.pattern_type.value],
        binding.principal,
        binding.host,
        AclOperation[binding.operation.value],
        AclPermissionType.ALLOW,
    )


def _filter(binding: AclBinding) -> AclBindingFilter:
    theirs = _theirs(binding)
    return AclBindingFilter(
        theirs.restype,
        theirs.name,
        theirs.resource_pattern_type,
        theirs.principal,
        theirs.host,
        theirs.operation,
        theirs.permission_type,
    )


def _ours(binding: RdAclBinding) -> AclBinding | None:
    if binding.permission_type != AclPermissionType.ALLOW:
        return None
    try:
        return AclBinding(
            principal=binding.principal,
            resource_type=ResourceType(
                _OUR_RESOURCE_TYPES.get(_name(binding.restype), _name(binding.restype))
            ),
            pattern_type=PatternType(_name(binding.resource_pattern_type)),
            resource_name=binding.name,
            operation=Operation(_name(binding.operation)),
            host=binding.host,
        )
    except ValueError:
        # A kind of binding the hub never makes (a transactional id, a delegation token):
        # someone else's, left alone.
        return None


# librdkafka calls the cluster resource BROKER; Kafka and Strimzi call it CLUSTER.
_RESOURCE_TYPES = {ResourceType.CLUSTER: "BROKER"}
_OUR_RESOURCE_TYPES = {"BROKER": ResourceType.CLUSTER.value}


def _name(value: object) -> str:
    # A described binding holds enum members; its constructor would also take names or codes.
    return str(getattr(value, "name", value))


# --- the client and its errors ---------------------------------------------------------------


def _with_client(admin: KafkaConnection, doing: str, call: Callable[[AdminClient], T]) -> T:
    failures: list[KafkaError] = []
    config: dict[str, Any] = {
        **admin.properties(),
        "client.id": "justishub-accounts",
        # Errors only: its informational lines (a purged queue at close) are not for a person.
        "log_level": 3,
        # librdkafka reports a refused login only here, never through the call's future.
        "error_cb": failures.append,
    }
    client = AdminClient(config)
    try:
        return call(client)
    except KafkaException as exc:
        raise _translate(doing, admin, exc.args[0] if exc.args else None, failures) from exc
    except TimeoutError as exc:
        raise _translate(doing, admin, None, failures) from exc


def _wait(future: Future[T]) -> T:
    return future.result(timeout=_TIMEOUT_S + 5)


def _translate(
    doing: str, admin: KafkaConnection, error: Any, failures: list[KafkaError]
) -> HubError:
    codes = {f.code() for f in failures}
    where = f"{doing} at {admin.bootstrap_servers} as {admin.username}"
    if KafkaError._AUTHENTICATION in codes or KafkaError.SASL_AUTHENTICATION_FAILED in codes:
        return PermanentError(f"{where}: login refused", reason=Reason.AUTHENTICATION_FAILED)
    if isinstance(error, KafkaError):
        if error.code() in _NOT_AUTHORIZED:
            return PermanentError(f"{where}: {error.str()}", reason=Reason.NOT_AUTHORIZED)
        if error.retriable():
            return TransientError(f"{where}: {error.str()}")
        return PermanentError(f"{where}: {error.str()}", reason=Reason.INTERNAL_ERROR)
    return TransientError(f"{where}: no answer within {_TIMEOUT_S:g} s", reason=Reason.TIMEOUT)


_NOT_AUTHORIZED = frozenset(
    {
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
    }
)
