"""The SQLite projection: idempotent, queryable by message and by person, locked is transient."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.audit.projection import Projection
from hub.audit.writer import MemoryChainLog
from hub.privacy import PersonKeys
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from schemas.errors import Reason, TransientError
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer

KEYS = PersonKeys(b"a test secret of some length")
PERSON = "12838545619"  # synthetic (month + 80)
CANONICAL = "0b8f3a52-0000-5000-8000-000000000001"
NAV_MESSAGE = "0b8f3a52-0000-5000-8000-0000000000aa"


def journey() -> list[AuditFacts]:
    """Source document → canonical event → NAV delivery → receipt; the health rule refused."""
    src = Where(topic="in.koda.v1", partition=2, offset=7)
    event = Where(topic="hub.events.v1", partition=1, offset=40)
    nav = Where(topic="out.nav.v1", partition=0, offset=3)
    subject = KEYS(PERSON)
    return [
        AuditFacts(
            id=audit_id(AuditStep.RECEIVED, "ingest", "a"),
            step="received",
            stage="ingest",
            input=src,
        ),
        AuditFacts(
            id=audit_id(AuditStep.PUBLISHED, "ingest", "a"),
            step="published",
            stage="ingest",
            input=src,
            output=event,
            subject=subject,
            message_id=CANONICAL,
            event_type="no.kriminalomsorgen.release.planned.v1",
            source_event_id="KODA-2026-0000417",
        ),
        AuditFacts(
            id=audit_id(AuditStep.DELIVERED, "route_nav", "b"),
            step="delivered",
            stage="route_nav",
            input=event,
            output=nav,
            subject=subject,
            message_id=CANONICAL,
            delivered_id=NAV_MESSAGE,
            event_type="no.kriminalomsorgen.release.planned.v1",
            recipient="nav",
            rule_id="nav-release",
            legal_basis="Straffegjennomføringsloven § 4",
        ),
        AuditFacts(
            id=audit_id(AuditStep.REFUSED, "route_health", "c"),
            step="refused",
            stage="route_health",
            input=event,
            subject=subject,
            message_id=CANONICAL,
            recipient="health",
            reason="no_consent",
        ),
        AuditFacts(
            id=audit_id(AuditStep.RECEIPT, "receipts", "d"),
            step="receipt",
            stage="receipts",
            input=Where(topic="receipts.nav.v1", partition=0, offset=0),
            recipient="nav",
            delivered_id=NAV_MESSAGE,
            receipt_status="processed",
        ),
    ]


async def projected(tmp_path: Path) -> tuple[Projection, MemoryChainLog]:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(3))
    await writer.append(journey())
    await writer.close()
    projection = Projection(tmp_path / "audit.sqlite")
    projection.apply(as_inbound(log.records))
    return projection, log


async def test_applying_the_same_records_again_changes_nothing(tmp_path: Path) -> None:
    projection, log = await projected(tmp_path)
    total = projection.count()
    assert total == len(log.records)
    assert projection.apply(as_inbound(log.records)) == 0
    assert projection.count() == total
    assert projection.next_offsets("hub.audit.v1") == {0: len(log.records)}


async def test_a_repeated_step_after_a_crash_is_kept_once(tmp_path: Path) -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(3))
    await writer.append(facts(3))  # the same steps recorded again, with new seqs
    projection = Projection(tmp_path / "audit.sqlite")
    projection.apply(as_inbound(log.records))
    assert projection.count(AuditStep.RECEIVED) == 3


async def test_the_trail_follows_a_message_from_its_source_to_the_receipt(tmp_path: Path) -> None:
    projection, _ = await projected(tmp_path)
    for known_as in (CANONICAL, "KODA-2026-0000417", NAV_MESSAGE):
        steps = [(r.stage, r.step) for r in projection.trail(known_as)]
        assert steps == [
            ("ingest", "received"),
            ("ingest", "published"),
            ("route_nav", "delivered"),
            ("route_health", "refused"),
            ("receipts", "receipt"),
        ], known_as


async def test_disclosures_are_found_by_the_person_key_and_since(tmp_path: Path) -> None:
    projection, _ = await projected(tmp_path)
    (nav,) = projection.disclosures(KEYS(PERSON))
    assert (nav.recipient, nav.rule_id, nav.legal_basis) == (
        "nav",
        "nav-release",
        "Straffegjennomføringsloven § 4",
    )
    assert projection.disclosures(KEYS(PERSON), datetime(2999, 1, 1, tzinfo=UTC)) == []
    assert projection.disclosures(KEYS("12838545600")) == []


async def test_no_identity_number_is_stored(tmp_path: Path) -> None:
    projection, _ = await projected(tmp_path)
    dump = "\n".join(sqlite3.connect(projection.path).iterdump())
    assert PERSON not in dump


async def test_a_locked_database_is_transient(tmp_path: Path) -> None:
    projection, log = await projected(tmp_path)
    blocker = sqlite3.connect(projection.path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TransientError) as caught:
            Projection(projection.path, busy_timeout_s=0.1).apply(as_inbound(log.records))
        assert caught.value.reason.value == "timeout"
    finally:
        blocker.rollback()
        blocker.close()


async def test_the_hub_projects_on_after_a_lock_is_gone_and_from_any_worker_thread(
    tmp_path: Path,
) -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(6))
    records = as_inbound(log.records)
    projection = Projection(tmp_path / "audit.sqlite", busy_timeout_s=0.1)
    await asyncio.to_thread(projection.apply, records[:2])
    blocker = sqlite3.connect(projection.path)
    blocker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(TransientError):
        await asyncio.to_thread(projection.apply, records[2:4])
    blocker.rollback()
    blocker.close()
    for start in (2, 4, 6):
        await asyncio.to_thread(projection.apply, records[start : start + 2])
    projection.close()
    assert projection.count() == len(records)
    assert projection.next_offsets("hub.audit.v1") == {0: len(records)}


def _delete(database: Path, keep: str | None) -> None:
    """An operator starts the projection afresh: the database goes, whatever SQLite file of
    it they leave behind (`keep`, a suffix)."""
    for suffix in ("", "-wal", "-shm"):
        if suffix != keep:
            Path(f"{database}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("left_behind", [None, "-wal", "-shm"])
async def test_a_projection_deleted_under_the_hub_is_projected_again_from_the_start(
    tmp_path: Path, left_behind: str | None
) -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(6))
    records = as_inbound(log.records)
    projection = Projection(tmp_path / "audit.sqlite")
    await asyncio.to_thread(projection.apply, records[:4])
    await asyncio.to_thread(_delete, projection.path, left_behind)

    with pytest.raises(TransientError) as caught:
        await asyncio.to_thread(projection.apply, records[4:])
    assert caught.value.reason is Reason.PROJECTION_REPLACED
    # What the hub does next: follow the trail from where the file found there stands.
    start = projection.next_offsets("hub.audit.v1")
    await asyncio.to_thread(projection.apply, records[start.get(0, 0) :])
    projection.close()

    assert projection.count() == len(records)
    assert projection.next_offsets("hub.audit.v1") == {0: len(records)}


def test_an_identity_number_cannot_be_put_on_record() -> None:
    with pytest.raises(ValueError, match="identity number"):
        AuditFacts(
            id="x",
            step="received",
            stage="ingest",
            input=Where(topic="t", partition=0, offset=0),
            correlation_id=f"case-{PERSON}",
        )
    with pytest.raises(ValueError, match="pseudonymous"):
        AuditFacts(
            id="x",
            step="received",
            stage="ingest",
            input=Where(topic="t", partition=0, offset=0),
            subject=PERSON,
        )


def test_each_step_must_name_its_facts() -> None:
    with pytest.raises(ValueError, match="needs entry_id, output"):
        AuditFacts(
            id="x",
            step="dead_lettered",
            stage="ingest",
            input=Where(topic="t", partition=0, offset=0),
            reason="invalid_xml",
        )


async def test_a_trail_and_disclosures_are_looked_up_not_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The projection holds every step of every message; a question that scans it answers
    # slower every day the hub runs.
    projection, _ = await projected(tmp_path)
    asked: list[str] = []
    connect = sqlite3.connect

    def traced(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(*args, **kwargs)  # type: ignore[arg-type]  # passed through as the caller gave them
        db.set_trace_callback(asked.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    projection.trail(NAV_MESSAGE)
    projection.disclosures(KEYS(PERSON))
    monkeypatch.undo()
    questions = [q for q in asked if q.lstrip().upper().startswith("SELECT") and "audit" in q]
    assert len(questions) >= 2
    db = sqlite3.connect(tmp_path / "audit.sqlite")
    for question in questions:
        plan = db.execute("EXPLAIN QUERY PLAN " + question).fetchall()
        assert not [step for *_, step in plan if step.startswith("SCAN audit")], (question, plan)
