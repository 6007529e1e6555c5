"""Operations alerts share the alerts topic with the message alerts, under a type of their own."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.cli.policy import _about
from hub.kafka.groups import Expired
from hub.pipeline import headers as h
from hub.recipients.alerts import alert_record, dead_letter_expiring, fold_alerts, records_expired
from schemas.alerts import OPERATIONS_ALERT_TYPE, OperationsAlert, OperationsAlertKind

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
ENTRY = "0b1c2d3e-4f50-5617-8829-3a4b5c6d7e8f"


def test_a_gap_is_one_alert_that_says_where_and_how_many() -> None:
    gap = Expired("justishub.ingest.koda", "in.koda.v1", 2, committed=10, log_start=25)
    alert = records_expired(gap, NOW)
    again = records_expired(gap, NOW)
    assert alert.id == again.id, "the same gap seen at every assignment is one alert"
    assert alert.detail.startswith("15 record(s) at offsets 10..24 were deleted by retention")
    assert _about(alert) == "justishub.ingest.koda on in.koda.v1[2]"
    record = alert_record(alert, "hub.alerts.v1")
    assert record.header(h.EVENT_TYPE) == OPERATIONS_ALERT_TYPE


def test_the_topic_folds_to_both_kinds_of_alert() -> None:
    expiring = dead_letter_expiring(ENTRY, "hub.dlq.v1", 1, 3, NOW, NOW)
    gap = records_expired(Expired("g", "t", 0, 1, 2), NOW)
    values = [alert_record(a, "hub.alerts.v1").value or b"" for a in (expiring, gap)]
    folded = fold_alerts([*values, b"not an alert"])
    assert [type(a) for a in folded] == [OperationsAlert, OperationsAlert]
    assert {a.kind for a in folded} == set(OperationsAlertKind)
    assert _about(expiring) == f"hub.dlq.v1[1] entry {ENTRY}"
