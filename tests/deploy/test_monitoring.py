"""The alert rules and the dashboard read only metrics the hub exports, in valid PromQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.deploy import DEPLOY_DIR
from hub.deploy.monitoring import expressions
from hub.metrics import HubMetrics, exported_names, follow_audit, follow_dead_letters
from schemas.errors import TransientError
from tests.deploy.support import check, of_kind

# Prometheus's own metric for each scrape target, not the hub's: a replica down.
NOT_THE_HUBS = {"up"}


def _checked_in_expressions() -> list[str]:
    (rule,) = of_kind("monitoring.yaml", "PrometheusRule")
    alerts = [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]
    board: dict[str, Any] = json.loads(
        (DEPLOY_DIR / "grafana-dashboard.json").read_text(encoding="utf-8")
    )
    panels = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    return alerts + panels


def test_the_checked_in_rules_and_dashboard_are_the_rendered_ones() -> None:
    assert _checked_in_expressions() == expressions()


def test_every_metric_they_read_is_one_the_hub_exports(tmp_path: Path) -> None:
    status, report = check(tmp_path, expressions=_checked_in_expressions())
    assert status == 0, [e for e in report["expressions"] if e["errors"]]
    used = {metric for e in report["expressions"] for metric in e["metrics"]}
    exported = exported_names(HubMetrics().registry)
    assert used - NOT_THE_HUBS <= exported, sorted(used - NOT_THE_HUBS - exported)
    # Each metric the issue's alerts need is read by some rule.
    assert {"hub_consumer_lag", "hub_dead_letters_open", "hub_receipts_overdue"} <= used
    assert {"hub_audit_intact", "hub_audit_verified_at_seconds", "up"} <= used


def test_control_an_unknown_metric_and_bad_promql_are_seen(tmp_path: Path) -> None:
    status, report = check(tmp_path, expressions=["rate(hub_no_such_total[5m]", "hub_nope > 1"])
    assert status == 1
    assert report["expressions"][0]["errors"]
    assert report["expressions"][1]["metrics"] == ["hub_nope"]
    assert "hub_nope" not in exported_names(HubMetrics().registry)


def test_the_alerts_the_issue_asks_for_are_there() -> None:
    (rule,) = of_kind("monitoring.yaml", "PrometheusRule")
    names = {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {
        "JustishubConsumerLag",
        "JustishubDeadLettersWaiting",
        "JustishubReceiptsOverdue",
        "JustishubAuditNotIntact",
        "JustishubReplicaDown",
    } <= names


def test_exported_names_include_series_without_samples_yet() -> None:
    names = exported_names(HubMetrics().registry)
    assert {"hub_records_in_total", "hub_batch_seconds_bucket", "hub_consumer_lag"} <= names
    assert "hub_records_in" not in names


class _Done(Exception):
    """Ends the check loop from inside the test's verify function."""


async def test_the_audit_check_sets_its_verdict_and_keeps_it_when_the_broker_is_away() -> None:
    metrics = HubMetrics()
    verdicts: list[bool | Exception] = [True, False, TransientError("broker away"), _Done()]
    seen: list[float | None] = []

    async def verify() -> bool:
        # The verdict the gauge holds when each check starts: the one before.
        seen.append(metrics.registry.get_sample_value("hub_audit_intact"))
        verdict = verdicts.pop(0)
        if isinstance(verdict, Exception):
            raise verdict
        return verdict

    with pytest.raises(_Done):
        await follow_audit(metrics, verify, 0.0)
    assert seen == [0.0, 1.0, 0.0, 0.0]  # unset, intact, not intact, kept while away
    verified_at = metrics.registry.get_sample_value("hub_audit_verified_at_seconds")
    assert verified_at is not None
    assert verified_at > 0


async def test_the_dead_letter_count_replaces_the_last_one_and_survives_the_broker_away() -> None:
    metrics = HubMetrics()
    counts: list[dict[tuple[str, str], int] | Exception] = [
        {("ingest", "invalid_xml"): 2, ("route_nav", "bad_signature"): 1},
        {("ingest", "invalid_xml"): 1},
        TransientError("broker away"),
        _Done(),
    ]

    def open_now(stage: str, reason: str) -> float | None:
        return metrics.registry.get_sample_value(
            "hub_dead_letters_open", {"stage": stage, "reason": reason}
        )

    seen: list[tuple[float | None, float | None]] = []

    async def count() -> dict[tuple[str, str], int]:
        seen.append((open_now("ingest", "invalid_xml"), open_now("route_nav", "bad_signature")))
        found = counts.pop(0)
        if isinstance(found, Exception):
            raise found
        return found

    with pytest.raises(_Done):
        await follow_dead_letters(metrics, count, 0.0)
    # Before each count: nothing yet; 2 and 1; 1 and gone; kept while the broker is away.
    assert seen == [(None, None), (2.0, 1.0), (1.0, None), (1.0, None)]
