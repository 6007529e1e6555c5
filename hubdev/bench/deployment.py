"""One hub deployment on the benchmark's broker: its own topics, consumer groups and data folder.

Every scenario of a benchmark run is a deployment of its own, so that no scenario's consumer
groups read another's records. Its settings are one set of `HUB_*` values, given both to the
`hub run` processes (as their environment) and to the benchmark itself (as `HubSettings`).

Topic names come from `TopicSettings`, whatever fields it has by the time the benchmark runs:
each name gets the deployment's tag as a suffix, and each `*_prefix` (of topics a stage names
itself) the tag in front, so a stage added later is isolated without a change here. Inbound
topics may be shared between deployments (`inbound_tag`): several scenarios then read the very
same published documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from hub.kafka.connection import KafkaConnection
from hub.settings import HubSettings, TopicSettings, child_environment
from hub.sources import sources

__all__ = ["Deployment", "deployment"]

_PREFIX = "HUB_"
_NESTED = "__"


class _Pinned(HubSettings):
    """Settings from the given values only: a person's own `HUB_*` environment must not change
    what the benchmark measures (its `hub run` processes do not inherit it either)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class Deployment:
    name: str
    values: Mapping[str, str]
    settings: HubSettings

    @property
    def group_prefix(self) -> str:
        """Every consumer group of this deployment starts with this."""
        return f"{self.settings.kafka.group_prefix}."

    @property
    def inbound_topics(self) -> list[str]:
        return sorted({source.topic for source in sources(self.settings).values()})

    def source_topic(self, source: str) -> str:
        return sources(self.settings)[source].topic

    def topic(self, field: str) -> str:
        """The name of `TopicSettings.<field>` in this deployment."""
        return str(getattr(self.settings.topics, field))

    def environ(self) -> dict[str, str]:
        """The environment of this deployment's processes: only `values` decide how they run."""
        return child_environment(self.values)


def deployment(
    name: str,
    *,
    run_id: str,
    connection: KafkaConnection,
    data_dir: Path,
    partitions: int,
    inbound_tag: str | None = None,
    max_batch_records: int | None = None,
) -> Deployment:
    """The deployment `name` of benchmark run `run_id`."""
    tag = f"bench-{run_id}-{name}"
    values = {
        "HUB_ENV": "dev",
        "HUB_DATA_DIR": str(data_dir / name),
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "INFO",
        **kafka_environment(connection),
        "HUB_KAFKA__GROUP_PREFIX": tag,
        "HUB_KAFKA__CLIENT_ID": tag,
        "HUB_KAFKA__PARTITIONS": str(partitions),
        # The HTTP ingress on a port the OS picks: never a person's hub's port, and two
        # processes of one deployment side by side.
        "HUB_WEB__PORT": "0",
        **_topic_values(tag, f"bench-{run_id}-{inbound_tag or name}"),
    }
    if max_batch_records is not None:
        values["HUB_KAFKA__MAX_BATCH_RECORDS"] = str(max_batch_records)
    return Deployment(name, values, settings_of(values))


def kafka_environment(connection: KafkaConnection) -> dict[str, str]:
    """`HUB_KAFKA__*` values that make a `hub` process connect as `connection` does."""
    values = {
        "HUB_KAFKA__BOOTSTRAP_SERVERS": connection.bootstrap_servers,
        "HUB_KAFKA__SECURITY_PROTOCOL": connection.protocol.value,
    }
    if connection.username is not None:
        values["HUB_KAFKA__USERNAME"] = connection.username
    if connection.password is not None:
        values["HUB_KAFKA__PASSWORD"] = connection.password.get_secret_value()
    if connection.ca_file is not None:
        values["HUB_KAFKA__CA_FILE"] = str(connection.ca_file)
    return values


def settings_of(values: Mapping[str, str]) -> HubSettings:
    """`HubSettings` from `HUB_*` values, as a `hub` process reads them from its environment."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        *groups, field = key.removeprefix(_PREFIX).lower().split(_NESTED)
        target = nested
        for group in groups:
            target = target.setdefault(group, {})
        target[field] = value
    return _Pinned(**nested)


def _topic_values(tag: str, inbound_tag: str) -> dict[str, str]:
    defaults = TopicSettings()
    inbound = {source.topic for source in sources(_Pinned()).values()}
    values = {}
    for field in TopicSettings.model_fields:
        default = getattr(defaults, field)
        if not isinstance(default, str):
            continue
        if field.endswith("_prefix"):
            # A prefix of topic names a stage makes itself (recipient topics, some made on
            # first use): the deployment's tag goes in front of them.
            value = f"{tag}.{default}"
        else:
            value = f"{default}.{inbound_tag if default in inbound else tag}"
        values[f"HUB_TOPICS__{field.upper()}"] = value
    return values
