"""The deployment's Kubernetes objects against Kubernetes' own schemas (kubernetes-validate,
strict: unknown fields refused), its Strimzi and Prometheus-operator resources against the
validators compiled from those projects' CRD schemas, and what the deployment relies on."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from hub.access import (
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    acl_bindings,
    load_places,
    place_topics,
    principals,
)
from hub.deploy import deployment_settings
from hub.deploy.strimzi import ADMIN, CA_SECRET, CLUSTER, kafka_operation
from hub.deploy.workload import APP, HTTP_PORT, REPLICAS, SECRET, SECRET_KEYS, TOOLBOX
from hub.passwords import hash_password
from hub.routing.policy import load_policy
from hub.settings import Environment, HubSettings
from hub.topics import catalogue, recipient_catalogue
from tests.deploy.support import CONTRACT_DIR, check, documents, of_kind

# The Kubernetes release the schemas are checked against.
KUBERNETES = "1.34"
CUSTOM = ("kafka.yaml", "topics.yaml", "users.yaml", "monitoring.yaml")


def _named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [doc for doc in of_kind("hub.yaml", kind) if doc["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("doc", documents("hub.yaml"), ids=lambda d: d["kind"])
def test_kubernetes_objects_match_the_kubernetes_schemas(doc: dict[str, Any]) -> None:
    assert kubernetes_validate.validate(doc, KUBERNETES, strict=True) == KUBERNETES


def test_control_the_kubernetes_validator_refuses_a_broken_deployment() -> None:
    deployment = _named("Deployment", APP)
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES, strict=True)
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES, strict=True)


def test_custom_resources_match_the_strimzi_and_prometheus_operator_schemas(
    tmp_path: Path,
) -> None:
    resources = [doc for name in CUSTOM for doc in documents(name)]
    status, report = check(tmp_path, resources=resources)
    assert [r for r in report["resources"] if r["errors"]] == []
    assert status == 0
    kinds = {r["kind"] for r in report["resources"]}
    assert kinds == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"} | {
        "ServiceMonitor",
        "PrometheusRule",
    }


def test_control_the_strimzi_schemas_refuse_a_wrong_acl_and_listener(tmp_path: Path) -> None:
    user = copy.deepcopy(of_kind("users.yaml", "KafkaUser")[1])
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Reed"]
    kafka = copy.deepcopy(of_kind("kafka.yaml", "Kafka")[0])
    kafka["spec"]["kafka"]["listeners"][0]["authentication"]["type"] = "scram-sha-256"
    status, report = check(tmp_path, resources=[user, kafka])
    assert status == 1
    assert all(r["errors"] for r in report["resources"])


def _keys(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, key) of every field name, except inside free-form maps (labels, configs)."""
    if isinstance(node, list):
        for item in node:
            yield from _keys(item, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield path, key
            if key not in {"labels", "annotations", "config", "requests", "limits", "matchLabels"}:
                yield from _keys(value, f"{path}.{key}")


_GROUPS = {
    "kafka.strimzi.io/v1": "strimzi-kafka-operator/kafka.strimzi.io/v1",
    "monitoring.coreos.com/v1": "prometheus-operator/monitoring.coreos.com/v1",
}


MODELS = CONTRACT_DIR / "node_modules" / "@kubernetes-models"


def _defined(model: Path, seen: set[Path] | None = None) -> set[str]:
    """Every property name of a CRD model's TypeScript types and of the types they import."""
    seen = set() if seen is None else seen
    if model in seen or not model.is_file():
        return set()
    seen.add(model)
    text = model.read_text(encoding="utf-8")
    names = set(re.findall(r'"([A-Za-z0-9]+)"\??:', text))
    for target in re.findall(r'from "([^"]+)"', text):
        if target.startswith("./"):
            found = model.parent / target.removeprefix("./").replace(".js", ".d.ts")
        elif target.startswith("@kubernetes-models/"):
            found = MODELS / f"{target.removeprefix('@kubernetes-models/')}.d.ts"
        else:
            continue
        names |= _defined(found, seen)
    return names


@pytest.mark.parametrize("name", CUSTOM)
def test_every_custom_resource_field_used_is_one_its_crd_defines(name: str) -> None:
    # CRD schemas let unknown fields through (Kubernetes prunes them silently), so a misspelt
    # field would vanish on apply: each must be a property of the kind's CRD model.
    for doc in documents(name):
        defined = _defined(MODELS / _GROUPS[doc["apiVersion"]] / f"{doc['kind']}.d.ts")
        meta = {"name", "namespace", "labels", "annotations"}
        unknown = {
            f"{path}.{key}"
            for path, key in _keys(doc)
            if key not in defined and not (path == ".metadata" and key in meta)
        }
        assert unknown == set(), (doc["kind"], doc["metadata"]["name"])


def test_control_the_crd_models_know_the_fields_and_not_their_misspellings() -> None:
    monitor = _defined(MODELS / _GROUPS["monitoring.coreos.com/v1"] / "ServiceMonitor.d.ts")
    user = _defined(MODELS / _GROUPS["kafka.strimzi.io/v1"] / "KafkaUser.d.ts")
    assert {"endpoints", "interval", "credentials", "matchLabels"} <= monitor
    assert "intervall" not in monitor
    assert {"acls", "operations", "patternType", "resource"} <= user
    assert "operatoins" not in user


def test_every_name_is_a_kubernetes_name() -> None:
    # DNS-1123 subdomains: what Kubernetes accepts as a resource's name.
    subdomain = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    names = [d["metadata"]["name"] for f in (*CUSTOM, "hub.yaml") for d in documents(f)]
    assert [n for n in names if not subdomain.fullmatch(n) or len(n) > 253] == []


def test_the_cluster_is_three_kraft_nodes_with_tls_scram_and_acls() -> None:
    (kafka,) = of_kind("kafka.yaml", "Kafka")
    (pool,) = of_kind("kafka.yaml", "KafkaNodePool")
    spec = kafka["spec"]["kafka"]
    assert [(lst["tls"], lst["authentication"]["type"]) for lst in spec["listeners"]] == [
        (True, "scram-sha-512")
    ]
    assert spec["authorization"] == {"type": "simple", "superUsers": [ADMIN]}
    assert spec["config"]["min.insync.replicas"] == 2
    assert spec["config"]["unclean.leader.election.enable"] is False
    assert spec["config"]["auto.create.topics.enable"] is False
    assert pool["metadata"]["labels"] == {"strimzi.io/cluster": CLUSTER}
    assert pool["spec"]["replicas"] == 3
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert kafka["spec"]["entityOperator"] == {"topicOperator": {}, "userOperator": {}}


def test_every_topic_the_hub_uses_is_a_kafka_topic_on_three_replicas() -> None:
    settings = deployment_settings()
    policy = load_policy(settings.routing.policy_path)
    places = load_places(settings.routing.municipalities_path)
    expected = {s.name: s for s in catalogue(settings) + recipient_catalogue(settings, policy)}
    topics = {t["spec"]["topicName"]: t for t in of_kind("topics.yaml", "KafkaTopic")}
    assert set(topics) == set(expected) | set(place_topics(settings, policy, places))
    for name, topic in topics.items():
        assert topic["metadata"]["labels"] == {"strimzi.io/cluster": CLUSTER}
        assert (topic["spec"]["replicas"], topic["spec"]["config"]["min.insync.replicas"]) == (
            3,
            "2",
        )
        if name in expected:
            assert topic["spec"]["partitions"] == expected[name].partitions
            assert dict(expected[name].config).items() <= topic["spec"]["config"].items()
    assert topics[settings.topics.audit]["spec"]["config"]["retention.ms"] == "-1"


def _bindings_of(user: dict[str, Any]) -> set[AclBinding]:
    name = f"User:{user['metadata']['name']}"
    found = set()
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        kind = ResourceType(resource["type"].upper())
        pattern = PatternType.PREFIXED if resource.get("patternType") == "prefix" else None
        for operation in acl["operations"]:
            op = next(o for o in Operation if kafka_operation(o.value) == operation)
            found.add(
                AclBinding(
                    name,
                    kind,
                    pattern or PatternType.LITERAL,
                    resource.get("name", "kafka-cluster"),
                    op,
                    acl["host"],
                )
            )
    return found


def test_every_principal_is_a_scram_user_with_exactly_its_acls() -> None:
    settings = deployment_settings()
    policy = load_policy(settings.routing.policy_path)
    places = load_places(settings.routing.municipalities_path)
    users = {u["metadata"]["name"]: u for u in of_kind("users.yaml", "KafkaUser")}
    expected = {p.name for p in principals(settings, policy, places)}
    assert set(users) == expected | {ADMIN}
    assert users[ADMIN]["spec"] == {"authentication": {"type": "scram-sha-512"}}
    rendered = {b for name in expected for b in _bindings_of(users[name])}
    assert rendered == set(acl_bindings(settings, policy, places))
    assert all(u["spec"]["authentication"] == {"type": "scram-sha-512"} for u in users.values())


def test_the_hub_runs_as_a_replicated_non_root_deployment_with_probes() -> None:
    deployment = _named("Deployment", APP)
    (pdb,) = of_kind("hub.yaml", "PodDisruptionBudget")
    (service,) = of_kind("hub.yaml", "Service")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == REPLICAS >= 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["ports"] == [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < REPLICAS
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["sessionAffinity"] == "ClientIP"  # console sessions are per replica


def _setting_exists(name: str) -> bool:
    model: Any = HubSettings
    for part in name.removeprefix("HUB_").lower().split("__"):
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
    return True


def test_secrets_come_from_kubernetes_secrets_and_every_variable_is_a_setting() -> None:
    deployment = _named("Deployment", APP)
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    for name, key in SECRET_KEYS.items():
        assert env[name]["valueFrom"] == {"secretKeyRef": {"name": SECRET, "key": key}}
    plain = {name: e["value"] for name, e in env.items() if "value" in e}
    assert plain["HUB_ENV"] == "production"
    assert plain["HUB_KAFKA__USERNAME"] == "hub"
    assert not any(re.search(r"PASSWORD$|SECRET$|TOKEN$|PASSPHRASE$", n) for n in plain)
    assert all(_setting_exists(n) for n in env), [n for n in env if not _setting_exists(n)]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    # The Strimzi User Operator's Secret of the `hub` KafkaUser, and the cluster CA's.
    assert secrets["kafka-password"] == "hub"
    assert secrets["kafka-ca"] == CA_SECRET


def test_operators_tools_run_as_the_operator_principal_without_the_hubs_keys() -> None:
    toolbox = _named("Deployment", TOOLBOX)
    pod = toolbox["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["HUB_KAFKA__USERNAME"]["value"] == "operator"
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert secrets["kafka-password"] == "operator"
    assert not {"HUB_WEB__API_KEYS", "HUB_CONSOLE__USERS", "HUB_METRICS__TOKEN"} & set(env)
    assert pod["securityContext"]["runAsNonRoot"] is True
    labels = toolbox["spec"]["template"]["metadata"]["labels"]
    # Neither the hub's Service nor its disruption budget counts the toolbox as a hub.
    (service,) = of_kind("hub.yaml", "Service")
    (pdb,) = of_kind("hub.yaml", "PodDisruptionBudget")
    assert not service["spec"]["selector"].items() <= labels.items()
    assert not pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("name", [APP, TOOLBOX])
def test_the_environment_makes_valid_production_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_values = {
        "person-key-secret": "p" * 40,
        "signing-passphrase": "s" * 40,
        "metrics-token": "m" * 40,
        "ingress-api-keys": json.dumps({"police": "k" * 40}),
        "console-users": json.dumps({"ops": hash_password("a long operator password")}),
    }
    (container,) = _named("Deployment", name)["spec"]["template"]["spec"]["containers"]
    for variable in container["env"]:
        if "value" in variable:
            monkeypatch.setenv(variable["name"], variable["value"])
        else:
            key = variable["valueFrom"]["secretKeyRef"]["key"]
            monkeypatch.setenv(variable["name"], secret_values[key])
    settings = HubSettings()
    assert settings.env is Environment.PRODUCTION
    assert settings.kafka.replication_factor == 3
    if name == APP:
        assert settings.web.port == HTTP_PORT
        assert settings.audit.verify_every_s == 3600
