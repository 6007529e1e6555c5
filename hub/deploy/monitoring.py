"""Watching the hub: the Prometheus scrape (a ServiceMonitor), the alert rules (a
PrometheusRule) and a Grafana dashboard, all over the metrics the hub exports (hub.metrics).

Every replica reports the consumer lag of every group, the open dead letters, the overdue
receipts and the audit verdict as it sees them, so the rules take the max (or min) over
replicas, not the sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from hub.deploy.strimzi import NAMESPACE
from hub.deploy.workload import APP, SECRET, SECRET_KEYS

__all__ = ["ALERTS", "Alert", "dashboard", "expressions", "monitoring_resources"]

# Prometheus's own per-target metric, not the hub's: whether the last scrape of a replica worked.
_UP: Final = f'up{{job="{APP}"}}'


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    expr: str
    wait: str  # how long the condition must hold before the alert fires
    severity: str
    summary: str

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.wait,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary},
        }


ALERTS: Final = (
    Alert(
        "JustishubConsumerLag",
        "max by (group) (hub_consumer_lag) > 1000",
        "10m",
        "warning",
        "Consumer group {{ $labels.group }} is {{ $value }} records behind.",
    ),
    Alert(
        "JustishubDeadLettersWaiting",
        "max by (stage, reason) (hub_dead_letters_open) > 0",
        "15m",
        "warning",
        "{{ $value }} dead-letter entries of stage {{ $labels.stage }} ({{ $labels.reason }}) "
        "wait for an operator: hub dlq list.",
    ),
    Alert(
        "JustishubBatchesRewinding",
        "sum by (stage) (rate(hub_batches_rewound_total[5m])) > 0.05",
        "10m",
        "warning",
        "Stage {{ $labels.stage }} keeps consuming its batches again without committing "
        "(logs: batch.rewound, batch.stuck).",
    ),
    Alert(
        "JustishubStateRewritten",
        "sum by (state) (increase(hub_state_rewritten_total[15m])) > 0",
        "0m",
        "warning",
        "A stalled hub process wrote an older {{ $labels.state }} state after a newer one; "
        "the newest was written again (logs: state.rewritten). Find the replica that paused.",
    ),
    Alert(
        "JustishubReceiptsOverdue",
        "max(hub_receipts_overdue) > 0",
        "5m",
        "warning",
        "{{ $value }} notices have no receipt past their deadline (hub alerts).",
    ),
    Alert(
        "JustishubAuditNotIntact",
        "min(hub_audit_intact) < 1",
        "0m",
        "critical",
        "The audit trail failed verification: run hub audit verify.",
    ),
    Alert(
        "JustishubAuditNotVerified",
        "time() - max(hub_audit_verified_at_seconds) > 3 * 3600",
        "15m",
        "warning",
        "No replica has verified the audit trail for three hours.",
    ),
    Alert(
        "JustishubReplicaDown",
        f"{_UP} == 0",
        "5m",
        "warning",
        "Hub replica {{ $labels.pod }} does not answer the scrape.",
    ),
    Alert(
        "JustishubTooFewReplicas",
        f"count({_UP} == 1) < 2 or absent({_UP} == 1)",
        "10m",
        "critical",
        "Fewer than two hub replicas are up.",
    ),
)


def monitoring_resources() -> list[dict[str, Any]]:
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": APP, "namespace": NAMESPACE},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
            "endpoints": [
                {
                    "port": "http",
                    "path": "/metrics",
                    "interval": "30s",
                    "authorization": {
                        "type": "Bearer",
                        "credentials": {
                            "name": SECRET,
                            "key": SECRET_KEYS["HUB_METRICS__TOKEN"],
                        },
                    },
                }
            ],
        },
    }
    rules = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": APP, "namespace": NAMESPACE},
        "spec": {"groups": [{"name": APP, "rules": [alert.rule() for alert in ALERTS]}]},
    }
    return [monitor, rules]


_PANELS: Final = (
    ("Records in per second, by stage", "sum by (stage) (rate(hub_records_in_total[5m]))", "ops"),
    (
        "Records out per second, by destination",
        "sum by (destination) (rate(hub_records_out_total[5m]))",
        "ops",
    ),
    (
        "Dead letters per hour, by stage and reason",
        "sum by (stage, reason) (increase(hub_dead_letters_total[1h]))",
        "short",
    ),
    (
        "Dead letters waiting, by stage and reason",
        "max by (stage, reason) (hub_dead_letters_open)",
        "short",
    ),
    ("Consumer lag, by group", "max by (group) (hub_consumer_lag)", "short"),
    (
        "Batch time, 99th percentile, by stage",
        "histogram_quantile(0.99, sum by (le, stage) (rate(hub_batch_seconds_bucket[5m])))",
        "s",
    ),
    (
        "Input to output, 99th percentile, by stage",
        "histogram_quantile(0.99, "
        "sum by (le, stage) (rate(hub_record_latency_seconds_bucket[5m])))",
        "s",
    ),
    ("Retries per second, by stage", "sum by (stage) (rate(hub_retries_total[5m]))", "ops"),
    ("Receipts overdue", "max(hub_receipts_overdue)", "short"),
    ("Audit trail intact (1 = yes)", "min(hub_audit_intact)", "short"),
    ("Hub replicas up", f"sum({_UP})", "short"),
)


def expressions() -> list[str]:
    """Every PromQL expression the rules and the dashboard use."""
    return [alert.expr for alert in ALERTS] + [expr for _, expr, _ in _PANELS]


def dashboard() -> dict[str, Any]:
    """A Grafana dashboard of the hub's metrics, with the Prometheus data source as a variable."""
    source = {"type": "prometheus", "uid": "${datasource}"}
    panels = [
        {
            "id": number,
            "type": "timeseries",
            "title": title,
            "datasource": source,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (number % 2), "y": 8 * (number // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "datasource": source, "expr": expr}],
        }
        for number, (title, expr, unit) in enumerate(_PANELS)
    ]
    return {
        "uid": APP,
        "title": "justishub",
        "tags": ["justishub"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels,
    }
