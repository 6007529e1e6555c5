"""The hub itself on Kubernetes: a Deployment of several replicas sharing the work through their
consumer groups, its Service and PodDisruptionBudget, and the operators' toolbox.

Nothing secret is in these files. The hub's own secrets come from the `justishub-secrets`
Secret (keys in `SECRET_KEYS`) and its signing keys from `justishub-signing-keys`, both made by
the people who run the deployment; each Kafka password and the cluster CA come from the Secrets
the Strimzi operators make for the KafkaUser and the cluster.

The toolbox is where operators run `hub dlq`, `hub audit`, `hub alerts` (`kubectl exec`): as the
`operator` Kafka principal, not as `hub` (see hub.access), with none of the hub's HTTP keys.
"""

from __future__ import annotations

from typing import Any, Final

from hub.access import HUB, OPERATOR
from hub.deploy.strimzi import BOOTSTRAP, CA_SECRET, NAMESPACE
from hub.settings import HubSettings

__all__ = [
    "APP",
    "HTTP_PORT",
    "IMAGE",
    "REPLICAS",
    "SECRET",
    "SECRET_KEYS",
    "SIGNING_SECRET",
    "TOOLBOX",
    "hub_resources",
]

APP: Final = "justishub"
TOOLBOX: Final = "justishub-operator"
IMAGE: Final = "justishub/hub:0.1.0"
REPLICAS: Final = 2
HTTP_PORT: Final = 8080
SECRET: Final = "justishub-secrets"  # noqa: S105 - the name of a Secret, not its value
SIGNING_SECRET: Final = "justishub-signing-keys"  # noqa: S105 - a Secret's name
# Setting (environment variable) → key of `justishub-secrets`.
SECRET_KEYS: Final = {
    "HUB_PERSON_KEY_SECRET": "person-key-secret",
    "HUB_SIGNING__PASSPHRASE": "signing-passphrase",
    "HUB_METRICS__TOKEN": "metrics-token",
    "HUB_WEB__API_KEYS": "ingress-api-keys",
    "HUB_CONSOLE__USERS": "console-users",
}
# What the toolbox needs of them: the person key (`hub audit disclosures --person`) and the
# passphrase of the signing keys (each operator action is a signed audit chain of its own).
_TOOLBOX_SECRET_KEYS: Final = ("HUB_PERSON_KEY_SECRET", "HUB_SIGNING__PASSPHRASE")
# The image's own user (Dockerfile): never root.
_UID: Final = 10001
_NAME: Final = "app.kubernetes.io/name"
_COMPONENT: Final = "app.kubernetes.io/component"
_LABELS: Final = {_NAME: APP, _COMPONENT: "hub"}
_TOOLBOX_LABELS: Final = {_NAME: APP, _COMPONENT: "operator-tools"}
_DATA: Final = "/var/lib/justishub"
_KAFKA_SECRETS: Final = "/etc/justishub/kafka"
_KAFKA_CA: Final = "/etc/justishub/kafka-ca"
_SIGNING_KEYS: Final = "/etc/justishub/signing"
# How often each replica checks the whole audit trail (the `hub_audit_*` metrics).
_AUDIT_VERIFY_EVERY_S: Final = 3600
# How often each replica counts the open dead-letter entries (`hub_dead_letters_open`).
_DEAD_LETTERS_EVERY_S: Final = 300
_POD_SECURITY: Final = {
    "runAsNonRoot": True,
    "runAsUser": _UID,
    "runAsGroup": _UID,
    "fsGroup": _UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
_CONTAINER_SECURITY: Final = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def hub_resources(settings: HubSettings) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(APP),
            # Neither the hub nor the toolbox talks to the Kubernetes API.
            "automountServiceAccountToken": False,
        },
        _hub(settings),
        _service(),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _metadata(APP),
            # A node drain never takes every replica at once.
            "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(_LABELS)}},
        },
        _toolbox(settings),
    ]


def _hub(settings: HubSettings) -> dict[str, Any]:
    pod = _pod(
        _hub_container(settings),
        user=HUB,
        # The hub's own stop waits `stop_timeout_s` for each of its three parts.
        grace_s=int(settings.stop_timeout_s * 3) + 15,
    )
    pod["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(_LABELS)},
        }
    ]
    # One replica more, then one less: the consumer groups rebalance one at a time.
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    return _deployment(APP, _LABELS, REPLICAS, pod, strategy)


def _toolbox(settings: HubSettings) -> dict[str, Any]:
    container = {
        "name": "tools",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        # Idles; operators `kubectl exec` into it and run `hub dlq ...` with --operator NAME.
        "command": ["sleep", "infinity"],
        "env": _environment(settings, OPERATOR, _TOOLBOX_SECRET_KEYS),
        "resources": {
            "requests": {"cpu": "50m", "memory": "256Mi"},
            # `hub audit verify` holds the whole trail in memory.
            "limits": {"cpu": "1", "memory": "2Gi"},
        },
        "securityContext": dict(_CONTAINER_SECURITY),
        "volumeMounts": _mounts(),
    }
    pod = _pod(container, user=OPERATOR, grace_s=5)
    return _deployment(TOOLBOX, _TOOLBOX_LABELS, 1, pod, {"type": "Recreate"})


def _deployment(
    name: str, labels: dict[str, str], replicas: int, pod: dict[str, Any], strategy: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**_metadata(name), "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "strategy": strategy,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
        },
    }


def _pod(container: dict[str, Any], *, user: str, grace_s: int) -> dict[str, Any]:
    return {
        "serviceAccountName": APP,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": grace_s,
        "securityContext": dict(_POD_SECURITY),
        "containers": [container],
        "volumes": [
            # The audit projection: derived data, rebuilt from the topic.
            {"name": "data", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
            # The Secret the Strimzi User Operator makes for the KafkaUser `user`.
            _secret_volume("kafka-password", user, {"password": "password"}),
            _secret_volume("kafka-ca", CA_SECRET, {"ca.crt": "ca.crt"}),
            _secret_volume("signing-keys", SIGNING_SECRET, None),
        ],
    }


def _hub_container(settings: HubSettings) -> dict[str, Any]:
    probe = {"port": "http"}
    return {
        "name": "hub",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["run"],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "env": _environment(settings, HUB, tuple(SECRET_KEYS)),
        "readinessProbe": {
            "httpGet": {"path": "/readyz", **probe},
            "periodSeconds": 10,
            "timeoutSeconds": int(settings.web.ready_timeout_s) + 1,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", **probe},
            "initialDelaySeconds": 30,
            "periodSeconds": 15,
            "failureThreshold": 4,
        },
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": "2", "memory": "2Gi"},
        },
        "securityContext": dict(_CONTAINER_SECURITY),
        "volumeMounts": _mounts(),
    }


def _mounts() -> list[dict[str, Any]]:
    return [
        {"name": "data", "mountPath": _DATA},
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the container's own, an emptyDir
        {"name": "kafka-password", "mountPath": _KAFKA_SECRETS, "readOnly": True},
        {"name": "kafka-ca", "mountPath": _KAFKA_CA, "readOnly": True},
        {"name": "signing-keys", "mountPath": _SIGNING_KEYS, "readOnly": True},
    ]


def _environment(
    settings: HubSettings, user: str, secrets: tuple[str, ...]
) -> list[dict[str, Any]]:
    plain = {
        "HUB_ENV": "production",
        "HUB_LOG_FORMAT": "json",
        "HUB_DATA_DIR": _DATA,
        "HUB_KAFKA__BOOTSTRAP_SERVERS": BOOTSTRAP,
        "HUB_KAFKA__REPLICATION_FACTOR": str(settings.kafka.replication_factor),
        "HUB_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "HUB_KAFKA__USERNAME": user,
        "HUB_KAFKA__PASSWORD_FILE": f"{_KAFKA_SECRETS}/password",
        "HUB_KAFKA__CA_FILE": f"{_KAFKA_CA}/ca.crt",
        "HUB_SIGNING__KEY_DIR": _SIGNING_KEYS,
    }
    if user == HUB:
        plain |= {
            # Every interface of the pod: the Service and the probes reach it there.
            "HUB_WEB__HOST": "0.0.0.0",  # noqa: S104 - inside the pod; the Service decides who reaches it
            "HUB_WEB__PORT": str(HTTP_PORT),
            "HUB_AUDIT__VERIFY_EVERY_S": str(_AUDIT_VERIFY_EVERY_S),
            "HUB_METRICS__DEAD_LETTERS_EVERY_S": str(_DEAD_LETTERS_EVERY_S),
        }
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    env += [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": SECRET_KEYS[name]}}}
        for name in secrets
    ]
    return env


def _service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**_metadata(APP), "labels": dict(_LABELS)},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(_LABELS),
            # Console sessions live in one replica's memory (ConsoleSettings): stay with it.
            "sessionAffinity": "ClientIP",
            # HTTP ingress, console, /metrics; TLS ends at the ingress controller in front.
            "ports": [{"name": "http", "port": HTTP_PORT, "targetPort": "http"}],
        },
    }


def _secret_volume(name: str, secret: str, items: dict[str, str] | None) -> dict[str, Any]:
    source: dict[str, Any] = {"secretName": secret, "defaultMode": 0o440}
    if items is not None:
        source["items"] = [{"key": k, "path": p} for k, p in items.items()]
    return {"name": name, "secret": source}


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE}
