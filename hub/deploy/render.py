"""`hub deploy render`: the files under `deploy/kubernetes/`, made from the settings, the routing
policy and the municipality register, and checked in. `--check` (and a test) says when the
checked-in files no longer match what the policy and register now imply.

Rendered with the production settings (three brokers) and the published topic names, never
with this machine's `HUB_*` environment: the same checkout renders the same bytes anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import yaml

from hub.access import Places, load_places
from hub.deploy.monitoring import dashboard, monitoring_resources
from hub.deploy.strimzi import cluster_resources, topic_resources, user_resources
from hub.deploy.workload import hub_resources
from hub.routing.policy import Policy, load_policy
from hub.settings import HubSettings, KafkaSettings, RoutingSettings, TopicSettings

__all__ = [
    "DEPLOY_DIR",
    "RENDER_COMMAND",
    "deployment_settings",
    "render",
    "stale",
    "write",
]

DEPLOY_DIR: Final = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
RENDER_COMMAND: Final = "hub deploy render"
_HEADER: Final = (
    f"# Made by `{RENDER_COMMAND}` from the routing policy and the settings; do not edit.\n"
)
_DUMPER: Final = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def deployment_settings() -> HubSettings:
    """The production settings the files are made with: defaults, but three brokers."""
    return HubSettings.model_construct(
        kafka=KafkaSettings(replication_factor=3),
        topics=TopicSettings(),
        routing=RoutingSettings(),
    )


def render(
    settings: HubSettings | None = None,
    policy: Policy | None = None,
    places: Places | None = None,
) -> dict[str, str]:
    """File name → content of every file of `deploy/kubernetes/`."""
    settings = settings or deployment_settings()
    policy = policy or load_policy(settings.routing.policy_path)
    places = places or load_places(settings.routing.municipalities_path)
    return {
        "kafka.yaml": _yaml(cluster_resources()),
        "topics.yaml": _yaml(topic_resources(settings, policy, places)),
        "users.yaml": _yaml(user_resources(settings, policy, places)),
        "hub.yaml": _yaml(hub_resources(settings)),
        "monitoring.yaml": _yaml(monitoring_resources()),
        "grafana-dashboard.json": json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n",
    }


def stale(files: dict[str, str], directory: Path = DEPLOY_DIR) -> list[str]:
    """The names of `files` whose content differs from (or is missing in) `directory`."""
    return [name for name, text in files.items() if _read(directory / name) != text]


def write(files: dict[str, str], directory: Path = DEPLOY_DIR) -> list[str]:
    """Write the stale ones of `files` to `directory`; returns their names."""
    changed = stale(files, directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (directory / name).write_text(files[name], encoding="utf-8")
    return changed


def _yaml(documents: list[dict[str, Any]]) -> str:
    body = yaml.dump_all(
        documents,
        Dumper=_DUMPER,
        sort_keys=False,
        explicit_start=True,
        allow_unicode=True,
        width=100,
    )
    return _HEADER + body


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
