"""A notice that needs a receipt and has none by its deadline raises one alert, once."""

from __future__ import annotations

import datetime as dt
import json

from hub.pipeline.sink import MemorySink
from hub.recipients.deadlines import DeadlineWatcher
from hub.routing.deliveries import Receipted
from schemas.events import ReleasePlanned
from schemas.recipients import ReceiptStatus, RecipientKind
from tests.events import make_event
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
