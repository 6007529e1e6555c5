"""Topics, created on purpose: the hub's brokers never create a topic because someone wrote to it.

Every call opens its own short-lived aiokafka admin client and closes it again; nothing here
connects at import time. aiokafka's exceptions stop at this module and leave it translated:

    TransientError (broker_unavailable, timeout)   the broker was away or slow: try again later
    PermanentError (topic_rejected)                Kafka refused a topic as specified
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
    for_code,
)

from hub.kafka.connection import KafkaConnection
from schemas.errors import PermanentError, Reason, TransientError

__all__ = [
    "TopicSpec",
    "TopicState",
    "broker_count",
    "describe_topics",
    "ensure_topics",
    "list_topics",
    "partition_count",
    "translate",
]

T = TypeVar("T")

# Kafka's own rule for topic names.
_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_CLIENT_ID = "justishub-admin"
# Kafka's error code for a topic the principal may not describe.
_TOPIC_AUTHORIZATION_FAILED = 29
# How often to look again whether newly created topics have leaders.
_POLL_S = 0.1


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the hub wants it. `config` holds Kafka topic settings such as `retention.ms`."""

    name: str
    partitions: int
    # -1: as many as the cluster has brokers, up to 3.
    replication_factor: int = -1
    # Left out of the hash: a dict has none, and equal specs still hash alike without it.
    config: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _TOPIC_NAME.fullmatch(self.name) or self.name in {".", ".."}:
            raise ValueError(f"not a valid Kafka topic name: {self.name!r}")
        if self.partitions < 1 or (self.replication_factor < 1 and self.replication_factor != -1):
            raise ValueError(
                f"topic {self.name}: partitions and replication factor must be >= 1 "
                "(replication factor -1: the cluster's default)"
            )


async def ensure_topics(
    connection: KafkaConnection,
    specs: Iterable[TopicSpec],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
) -> list[str]:
    """Create the topics of `specs` that do not exist yet; return the names this call created.

    Topics that exist already are left as they are, even when their settings differ from the
    spec. Returns once the created topics have a leader for every partition, so a producer can
    write to them at once.
    """
    wanted = list(specs)
    names = [spec.name for spec in wanted]
    if len(set(names)) != len(names):
        raise ValueError(f"a topic is named twice in {names}")

    async def create(admin: Any) -> list[str]:
        existing = set(await admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        if not missing:
            return []
        brokers = len((await admin.describe_cluster())["brokers"])
        response = await admin.create_topics(
            [_new_topic(spec, brokers) for spec in missing], timeout_ms=int(timeout * 1000)
        )
        created = _created_names(response.topic_errors)
        await _wait_for_leaders(admin, created)
        return created

    return await _with_admin(connection, timeout, create)


async def list_topics(
    connection: KafkaConnection,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
) -> set[str]:
    """The names of all topics on the cluster, Kafka's internal ones included."""

    async def names(admin: Any) -> set[str]:
        return set(await admin.list_topics())

    return await _with_admin(connection, timeout, names)


async def partition_count(
    connection: KafkaConnection,
    topic: str,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
) -> int:
    """How many partitions `topic` has; a `PermanentError` when it does not exist."""

    async def count(admin: Any) -> int:
        (described,) = await admin.describe_topics([topic])
        if described.get("error_code") == _TOPIC_AUTHORIZATION_FAILED:
            raise PermanentError(
                f"{connection.principal} may not read topic {topic!r}", reason=Reason.NOT_AUTHORIZED
            )
        if described.get("error_code") != 0 or not described.get("partitions"):
            raise PermanentError(f"topic {topic!r} does not exist", reason=Reason.TOPIC_REJECTED)
        return len(described["partitions"])

    return await _with_admin(connection, timeout, count)


@dataclass(frozen=True)
class TopicState:
    """A topic as the cluster has it: what `hub topics check` compares with a `TopicSpec`."""

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str] = field(default_factory=dict, hash=False)


async def describe_topics(
    connection: KafkaConnection,
    names: Iterable[str],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
) -> dict[str, TopicState]:
    """The topics of `names` that exist, with their partitions, replicas and settings."""
    wanted = sorted(set(names))

    async def describe(admin: Any) -> dict[str, TopicState]:
        existing = [t for t in await admin.describe_topics(wanted) if t.get("error_code") == 0]
        if not existing:
            return {}
        resources = [ConfigResource(ConfigResourceType.TOPIC, t["topic"]) for t in existing]
        configs: dict[str, dict[str, str]] = {}
        for response in await admin.describe_configs(resources):
            for _code, _message, _type, name, entries in response.resources:
                configs[name] = {entry[0]: entry[1] for entry in entries if entry[1] is not None}
        return {
            t["topic"]: TopicState(
                name=t["topic"],
                partitions=len(t["partitions"]),
                replication_factor=min(len(p["replicas"]) for p in t["partitions"]),
                config=configs.get(t["topic"], {}),
            )
            for t in existing
        }

    return await _with_admin(connection, timeout, describe)


async def broker_count(
    connection: KafkaConnection,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
) -> int:
    """How many brokers the cluster has registered (those up now)."""

    async def count(admin: Any) -> int:
        return len((await admin.describe_cluster())["brokers"])

    return await _with_admin(connection, timeout, count)


def _new_topic(spec: TopicSpec, brokers: int) -> NewTopic:
    return NewTopic(
        name=spec.name,
        num_partitions=spec.partitions,
        # aiokafka cannot ask for the cluster's default; this is what the local clusters and
        # the Strimzi deployment default to, and what `hub topics check` expects.
        replication_factor=spec.replication_factor
        if spec.replication_factor > 0
        else min(3, brokers),
        topic_configs=dict(spec.config),
    )


def _created_names(topic_errors: Iterable[tuple[Any, ...]]) -> list[str]:
    """The topics Kafka created; another client creating one meanwhile is no failure."""
    created: list[str] = []
    refused: list[str] = []
    for name, code, *message in topic_errors:
        if code == 0:
            created.append(name)
        elif for_code(code) is not TopicAlreadyExistsError:
            error = for_code(code)
            refused.append(f"{name} ({error.__name__}: {message[0] if message else ''})")
    if refused:
        raise PermanentError(
            f"Kafka refused to create {'; '.join(refused)}", reason=Reason.TOPIC_REJECTED
        )
    return created


async def _wait_for_leaders(admin: Any, names: list[str]) -> None:
    # The controller answers once the topic is committed; brokers learn of it a moment later.
    while names:
        described = await admin.describe_topics(names)
        if all(_has_leaders(topic) for topic in described):
            return
        await asyncio.sleep(_POLL_S)


def _has_leaders(topic: Mapping[str, Any]) -> bool:
    partitions = topic.get("partitions") or []
    return topic.get("error_code") == 0 and all(p["leader"] >= 0 for p in partitions)


async def _with_admin(
    connection: KafkaConnection,
    timeout: float,  # noqa: ASYNC109 -- also Kafka's own request timeout, which asyncio.timeout cannot set
    call: Callable[[Any], Awaitable[T]],
) -> T:
    """Run `call` with a started admin client, within `timeout`, translating aiokafka's errors."""
    bootstrap_servers = connection.bootstrap_servers
    admin = AIOKafkaAdminClient(
        **connection.aiokafka(),
        client_id=_CLIENT_ID,
        request_timeout_ms=max(1_000, int(timeout * 1000)),
    )
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            return await call(admin)
    except (TimeoutError, KafkaTimeoutError) as exc:
        raise TransientError(
            f"Kafka at {bootstrap_servers} did not answer within {timeout:g} s",
            reason=Reason.TIMEOUT,
        ) from exc
    except KafkaConnectionError as exc:
        raise TransientError(f"cannot reach Kafka at {bootstrap_servers}: {exc}") from exc
    except KafkaError as exc:
        raise _translate(bootstrap_servers, exc) from exc
    finally:
        await admin.close()


def _translate(bootstrap_servers: str, exc: KafkaError) -> TransientError | PermanentError:
    return translate(f"Kafka at {bootstrap_servers}", exc)


def translate(where: str, exc: KafkaError) -> TransientError | PermanentError:
    """aiokafka's error as ours: a refused login or ACL is permanent and says so."""
    name = type(exc).__name__
    detail = f"{where}: {name}: {exc}"
    if "Authorization" in name:
        return PermanentError(detail, reason=Reason.NOT_AUTHORIZED)
    if "Authentication" in name or "Sasl" in name:
        return PermanentError(detail, reason=Reason.AUTHENTICATION_FAILED)
    if exc.retriable:
        return TransientError(detail)
    return PermanentError(detail, reason=Reason.INTERNAL_ERROR)
