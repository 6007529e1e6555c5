"""A notice that needs a receipt and has none by its deadline raises one alert, once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from hub.metrics import HubMetrics
from hub.pipeline.sink import MemorySink
from hub.recipients.deadlines import DeadlineWatcher
from hub.routing.deliveries import Receipted
from schemas.events import CustodyEnded, ExecutionForm, ReleasePlanned, TransferPlanned
from schemas.events.codes import CustodyOutcome
from schemas.recipients import ReceiptStatus, RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import NOW, Router


async def test_an_overdue_receipt_raises_one_alert() -> None:
    router = Router()
    event = make_event(ReleasePlanned)
    release = event.data.release.model_copy(
        update={"residence_municipality": "0301", "date": dt.date(2026, 12, 1)}
    )
    event = event.model_copy(update={"data": event.data.model_copy(update={"release": release})})
    (message,) = router.route(event, RecipientKind.MUNICIPALITY).messages()
    sink = MemorySink()
    clock = [NOW]
    watcher = DeadlineWatcher(
        index=router.index,
        sink=sink,
        deliveries_topic="hub.deliveries.v1",
        alerts_topic="hub.alerts.v1",
        sign=lambda record: record,
        clock=lambda: clock[0],
        every_s=1.0,
    )
    assert await watcher.check() == 0  # not yet due
    clock[0] = NOW + dt.timedelta(hours=router.policy.settings.receipt_deadline_hours, minutes=1)
    assert await watcher.check() == 1
    assert await watcher.check() == 0  # alerted once
    (alert,) = [json.loads(v) for v in sink.values("hub.alerts.v1")]
    assert (alert["kind"], alert["state"], alert["messageid"]) == (
        "receipt_overdue",
        "raised",
        message["id"],
    )


def _transfer_to_monitoring() -> Any:
    data = sample_data("transfer", "planned")
    transfer = data.transfer.model_copy(
        update={
            "to_execution_form": ExecutionForm.ELEKTRONISK_KONTROLL,
            "residence_municipality": "0301",
        }
    )
    return make_event(TransferPlanned, data=data.model_copy(update={"transfer": transfer}))


def _custody_released() -> Any:
    data = sample_data("custody", "ended").model_copy(update={"residence_municipality": "0301"})
    released = data.custody.model_copy(update={"outcome": CustodyOutcome.RELEASED})
    return make_event(CustodyEnded, data=data.model_copy(update={"custody": released}))


@pytest.mark.parametrize(
    "event", [_transfer_to_monitoring(), _custody_released()], ids=["transfer", "custody"]
)
async def test_transfers_and_the_end_of_remand_need_a_receipt_too(event: Any) -> None:
    router = Router()
    (message,) = router.route(event, RecipientKind.MUNICIPALITY).messages()
    hours = router.policy.settings.receipt_deadline_hours
    # The municipality sees by when it must answer.
    assert dt.datetime.fromisoformat(message["respondby"]) == NOW + dt.timedelta(hours=hours)
    sink = MemorySink()
    watcher = DeadlineWatcher(
        index=router.index,
        sink=sink,
        deliveries_topic="hub.deliveries.v1",
        alerts_topic="hub.alerts.v1",
        sign=lambda record: record,
        clock=lambda: NOW + dt.timedelta(hours=hours, minutes=1),
        every_s=1.0,
    )
    assert await watcher.check() == 1
    (alert,) = [json.loads(v) for v in sink.values("hub.alerts.v1")]
    assert (alert["kind"], alert["messageid"]) == ("receipt_overdue", message["id"])


def test_a_rule_without_a_receipt_says_no_deadline() -> None:
    event = make_event(ReleasePlanned)
    (message,) = Router().route(event, RecipientKind.POLICE_REGISTER).messages()
    assert "respondby" not in message


async def test_a_person_blocked_close_to_release_raises_an_alert_until_unblocked() -> None:
    router = Router()
    event = make_event(ReleasePlanned)
    release = event.data.release.model_copy(
        update={"residence_municipality": "0301", "date": dt.date(2026, 6, 20)}
    )
    event = event.model_copy(update={"data": event.data.model_copy(update={"release": release})})
    router.route(event, RecipientKind.MUNICIPALITY)
    router.route(event, RecipientKind.POLICE_REGISTER)
    blocked = {event.subject}
    sink = MemorySink()
    clock = [NOW]  # 19 days before the release
    watcher = DeadlineWatcher(
        index=router.index,
        sink=sink,
        deliveries_topic="hub.deliveries.v1",
        alerts_topic="hub.alerts.v1",
        sign=lambda record: record,
        clock=lambda: clock[0],
        every_s=1.0,
        blocked=lambda: blocked,
        blocked_days=7,
        on_alert=lambda alert: metrics.alert("deadlines", alert.kind.value, alert.state.value),
    )
    metrics = HubMetrics()

    def blocked_alerts() -> list[tuple[str, str]]:
        values = [json.loads(v) for v in sink.values("hub.alerts.v1")]
        return [(a["kind"], a["state"]) for a in values if a["kind"] == "blocked_before_release"]

    await watcher.check()
    assert blocked_alerts() == []  # not near yet
    clock[0] = NOW + dt.timedelta(days=13)  # 6 days before
    await watcher.check()
    await watcher.check()
    assert blocked_alerts() == [("blocked_before_release", "raised")]  # once per person
    blocked.clear()  # replayed or discarded
    await watcher.check()
    assert blocked_alerts() == [
        ("blocked_before_release", "raised"),
        ("blocked_before_release", "resolved"),
    ]
    # /metrics counts the watcher's alerts too.
    labels = {"stage": "deadlines", "kind": "blocked_before_release", "state": "resolved"}
    assert metrics.registry.get_sample_value("hub_alerts_total", labels) == 1


async def test_the_watcher_reports_how_many_overdue_notices_are_unanswered() -> None:
    router = Router()
    event = make_event(ReleasePlanned)
    release = event.data.release.model_copy(
        update={"residence_municipality": "0301", "date": dt.date(2026, 12, 1)}
    )
    event = event.model_copy(update={"data": event.data.model_copy(update={"release": release})})
    (message,) = router.route(event, RecipientKind.MUNICIPALITY).messages()
    clock = [NOW]
    counts: list[int] = []
    watcher = DeadlineWatcher(
        index=router.index,
        sink=MemorySink(),
        deliveries_topic="hub.deliveries.v1",
        alerts_topic="hub.alerts.v1",
        sign=lambda record: record,
        clock=lambda: clock[0],
        every_s=1.0,
        overdue=counts.append,
    )
    await watcher.check()
    clock[0] = NOW + dt.timedelta(hours=router.policy.settings.receipt_deadline_hours, minutes=1)
    await watcher.check()
    await watcher.check()
    entry = router.index.get(message["id"])
    assert entry is not None
    answered = Receipted(required=True, due=entry.receipt.due, status=ReceiptStatus.RECEIVED)
    router.index.put(entry.changed(receipt=answered, alerts=()))
    await watcher.check()
    assert counts == [0, 1, 1, 0]
