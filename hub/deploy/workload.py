"""The hub itself on Kubernetes: a Deployment of several replicas sharing the work through their
consumer groups, its Service, a PodDisruptionBudget and the Prometheus scrape.

Nothing secret is in these files. The hub's own secrets come from the `justishub-secrets`
Secret (keys in `SECRET_KEYS`) and its signing keys from `justishub-signing-keys`, both made by
the people who run the deployment; its Kafka password and the cluster CA from the Secrets the
Strimzi operators make for the `hub` KafkaUser and the cluster.
"""

from __future__ import annotations

from typing import Any, Final

from hub.access import HUB
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
    "hub_resources",
]

APP: Final = "justishub"
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
# The image's own user (Dockerfile): never root.
_UID: Final = 10001
_LABELS: Final = {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": "hub"}
_DATA: Final = "/var/lib/justishub"
_KAFKA_PASSWORD: Final = "/etc/justishub/kafka/password"  # noqa: S105 - a path to the file
_KAFKA_CA: Final = "/etc/justishub/kafka-ca/ca.crt"
_SIGNING_KEYS: Final = "/etc/justishub/signing"
# How often each replica checks the whole audit trail (the `hub_audit_*` metrics).
_AUDIT_VERIFY_EVERY_S: Final = 3600


def hub_resources(settings: HubSettings) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(APP),
            # The hub never talks to the Kubernetes API.
            "automountServiceAccountToken": False,
        },
        _deployment(settings),
        _service(),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _metadata(APP),
            # A node drain never takes every replica at once.
            "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(_LABELS)}},
        },
    ]


def _deployment(settings: HubSettings) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(APP),
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": dict(_LABELS)},
            # One replica more, then one less: the consumer groups rebalance one at a time.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {"metadata": {"labels": dict(_LABELS)}, "spec": _pod(settings)},
        },
    }


def _pod(settings: HubSettings) -> dict[str, Any]:
    return {
        "serviceAccountName": APP,
        "automountServiceAccountToken": False,
        # The hub's own stop waits `stop_timeout_s` for each of its three parts.
        "terminationGracePeriodSeconds": int(settings.stop_timeout_s * 3) + 15,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": _UID,
            "runAsGroup": _UID,
            "fsGroup": _UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(_LABELS)},
            }
        ],
        "containers": [_container(settings)],
        "volumes": [
            # The audit projection: derived data, rebuilt from the topic by each replica.
            {"name": "data", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
            _secret_volume("kafka-password", HUB, {"password": "password"}),
            _secret_volume("kafka-ca", CA_SECRET, {"ca.crt": "ca.crt"}),
            _secret_volume("signing-keys", SIGNING_SECRET, None),
        ],
    }


def _container(settings: HubSettings) -> dict[str, Any]:
    probe = {"port": "http"}
    return {
        "name": "hub",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["run"],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "env": _environment(settings),
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
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": _DATA},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the container's own, an emptyDir
            {"name": "kafka-password", "mountPath": "/etc/justishub/kafka", "readOnly": True},
            {"name": "kafka-ca", "mountPath": "/etc/justishub/kafka-ca", "readOnly": True},
            {"name": "signing-keys", "mountPath": _SIGNING_KEYS, "readOnly": True},
        ],
    }


def _environment(settings: HubSettings) -> list[dict[str, Any]]:
    plain = {
        "HUB_ENV": "production",
        "HUB_LOG_FORMAT": "json",
        "HUB_DATA_DIR": _DATA,
        # Every interface of the pod: the Service and the probes reach it there.
        "HUB_WEB__HOST": "0.0.0.0",  # noqa: S104 - inside the pod; the Service decides who reaches it
        "HUB_WEB__PORT": str(HTTP_PORT),
        "HUB_KAFKA__BOOTSTRAP_SERVERS": BOOTSTRAP,
        "HUB_KAFKA__REPLICATION_FACTOR": str(settings.kafka.replication_factor),
        "HUB_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "HUB_KAFKA__SASL_USERNAME": HUB,
        "HUB_KAFKA__SASL_PASSWORD_FILE": _KAFKA_PASSWORD,
        "HUB_KAFKA__SSL_CA_FILE": _KAFKA_CA,
        "HUB_SIGNING__KEY_DIR": _SIGNING_KEYS,
        "HUB_AUDIT__VERIFY_EVERY_S": str(_AUDIT_VERIFY_EVERY_S),
    }
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    env += [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}}
        for name, key in SECRET_KEYS.items()
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
