"""The delivery index: the hub's memory of what it sent, correct and of bounded size."""

from __future__ import annotations

import datetime as dt
import gc
import json
import tracemalloc

from hub.pipeline.records import InboundRecord, Position
from hub.routing.deliveries import (
    DeliveryEntry,
    DeliveryIndex,
    Receipted,
    StagedIndex,
    entry_record,
)
from schemas.recipients import Action, ReceiptStatus

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def entry(number: int, **changes: object) -> DeliveryEntry:
    base = DeliveryEntry(
        messageid=f"message-{number}",
        kind="municipality",
        recipient="municipality.0301",
        topic="out.municipality.0301.v1",
        subject=f"person-{number % 7}",
        canonicalid=f"event-{number}",
        eventtype="no.kriminalomsorgen.release.planned.v1",
        action=Action.NOTICE,
        rule="municipality.release-planned",
        legalbasis="a legal basis, as the policy words it",
        deliveredat=NOW,
        plan=f"release|{number}",
        open=True,
    )
    return base.model_copy(update=changes)


def known(index: DeliveryIndex, message_id: str) -> DeliveryEntry:
    found = index.get(message_id)
    assert found is not None, message_id
    return found


def test_an_older_revision_read_back_never_undoes_a_newer_one() -> None:
    index = DeliveryIndex()
    first = entry(1)
    closed = first.changed(open=False)
    assert index.put(closed)
    assert not index.put(first)
    assert index.get("message-1") == closed
    assert index.put(closed), "the same revision again is taken (a follower reads it back)"
    assert len(index) == 1


def test_only_a_missing_required_receipt_not_yet_alerted_is_overdue() -> None:
    due = NOW - dt.timedelta(minutes=1)
    required = Receipted(required=True, due=due)
    index = DeliveryIndex()
    index.put_all(
        [
            entry(1, receipt=required),
            entry(2, receipt=required.model_copy(update={"status": ReceiptStatus.RECEIVED})),
            entry(3, receipt=required, alerts=("receipt_overdue",)),
            entry(4, receipt=Receipted(required=True, due=NOW + dt.timedelta(hours=1))),
            entry(5),
        ]
    )
    assert [e.messageid for e in index.awaiting_receipt(NOW)] == ["message-1"]
    index.put(known(index, "message-1").changed(alerts=("receipt_overdue",)))
    assert index.awaiting_receipt(NOW) == []


def test_a_stage_sees_its_own_batch_and_only_open_plans() -> None:
    index = DeliveryIndex()
    index.put_all([entry(7), entry(14, open=False), entry(21)])  # all about person-0
    staged = StagedIndex(index)
    staged.stage(known(index, "message-21").changed(open=False))
    staged.stage(known(index, "message-14").changed(open=True))
    staged.stage(entry(28))
    assert [e.messageid for e in staged.open_for("municipality", "person-0")] == [
        "message-14",
        "message-28",
        "message-7",
    ]
    staged.rollback()
    assert [e.messageid for e in staged.open_for("municipality", "person-0")] == [
        "message-21",
        "message-7",
    ]


def test_the_index_keeps_no_python_object_per_message() -> None:
    # The index outlives every batch: held as Python objects it grew by about 2 KB a message,
    # without bound. SQLite's own page cache is capped by a pragma and not traced here.
    index = DeliveryIndex()
    index.put_all(entry(n) for n in range(1_000))
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for start in range(1_000, 21_000, 500):
            index.put_all(entry(n) for n in range(start, start + 500))
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index) == 21_000
    assert (after - before) / 20_000 < 50, f"{(after - before) / 20_000:.0f} bytes a message"


def test_an_event_seen_again_finds_the_plans_it_closed_in_the_index_and_in_its_batch() -> None:
    index = DeliveryIndex()
    index.put_all([entry(1), entry(2, open=False, closedby="event-9", rev=1)])
    staged = StagedIndex(index)
    staged.stage(entry(1).changed(open=False, closedby="event-9"))

    assert staged.closed_by("nav", "event-9") == []
    assert staged.closed_by("municipality", "event-8") == []
    assert [e.messageid for e in staged.closed_by("municipality", "event-9")] == [
        "message-1",
        "message-2",
    ]
    staged.rollback()
    assert [e.messageid for e in staged.closed_by("municipality", "event-9")] == ["message-2"]


def test_what_a_stage_asks_for_each_event_is_looked_up_not_scanned() -> None:
    # The index holds every message ever sent; a question asked per event that scans it makes
    # the hub slower with every message (the chaos suite's drain crawled on two such scans).
    index = DeliveryIndex()
    index.put_all(entry(n) for n in range(50))
    staged = StagedIndex(index)
    asked: list[str] = []
    index._db.set_trace_callback(asked.append)
    staged.get("message-1")
    staged.closed_by("municipality", "event-1")
    list(staged.about("municipality", "person-1"))
    list(staged.told_of("municipality", "event-1"))
    list(staged.open_for("municipality", "person-1"))
    index.open_releases("person-1")
    index._db.set_trace_callback(None)
    assert len(asked) >= 7
    for statement in asked:
        plan = index._db.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
        # A search by kind alone reads every entry of the kind: a scan too.
        scans = [
            step
            for *_, step in plan
            if step.startswith("SCAN entries") or step.endswith("(kind=?)")
        ]
        assert not scans, (statement, plan)


def test_what_a_later_version_adds_to_an_entry_is_read_and_kept_when_this_one_changes_it() -> None:
    later = entry(1).model_dump(mode="json")
    later["retractedby"] = "event-9"
    later["receipt"]["channel"] = "portal"
    record = InboundRecord(
        Position("hub.deliveries.v1", 0, 0), b"message-1", json.dumps(later).encode()
    )
    index = DeliveryIndex()

    assert index.apply_records([record]) == 1
    changed = known(index, "message-1").changed(open=False)
    written = json.loads(entry_record(changed, "hub.deliveries.v1").value)

    assert written["retractedby"] == "event-9"
    assert written["receipt"]["channel"] == "portal"
    assert (written["open"], written["rev"]) == (False, 1)
