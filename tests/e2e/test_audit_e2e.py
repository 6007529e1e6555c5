"""The trail of a real run: `hub run` as a process on the test broker, fed synthetic documents.

Completeness: every canonical event and every dead-letter entry has exactly one audit record,
and the counts per step agree. Kill (the check test_kill.py runs after its SIGKILL and restart):
the trail verifies and accounts for every input. Privacy: no identity number of the run's
documents appears on the audit topic, in the projection or in the hub's log.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hub.audit.projection import Projection
from hub.audit.tools import read_all, verify_topics
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, Position
from hub.signing.keys import key_store
from hub.signing.verifying import verify_record
from hubdev.demo.synthetic import SyntheticDocument, mixed_documents
from schemas.audit import AuditRecord, AuditStep, decode_record
from schemas.signature import PublicKeys
from tests.e2e.harness import HubEnv, HubProcess, collect, ingest_only

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


class Run:
    """One test's hub environment, its documents and what came of them."""

    def __init__(self, kafka: Any, tmp_path: Path, docs: list[SyntheticDocument]) -> None:
        self.env = HubEnv(kafka.connection, tmp_path / "data")
        self.settings = self.env.settings()
        self.docs = docs
        self.log_path = tmp_path / "hub.log"
        self.valid = sum(1 for d in docs if d.expected_reason is None)
        self.invalid = len(docs) - self.valid
        self.inputs: list[Position] = []

    def hub(self) -> HubProcess:
        process = HubProcess(self.env, self.log_path)
        process.start()
        return process

    async def publish(self) -> None:
        self.inputs = await self.env.publish([d.raw for d in self.docs])

    async def outputs(self, *, events: int) -> tuple[list[InboundRecord], list[InboundRecord]]:
        topics, bootstrap = self.settings.topics, self.settings.kafka_connection()
        found = await collect(
            bootstrap, topics.events, until=lambda rs: len(_ids(rs)) >= events, timeout_s=180
        )
        dlq = await collect(
            bootstrap,
            topics.dlq,
            until=lambda rs: len({r.header(h.DLQ_ID) for r in ingest_only(rs)}) >= self.invalid,
            timeout_s=60,
        )
        return found, ingest_only(dlq)

    async def trail(self) -> list[AuditRecord]:
        stored = await read_all(self.settings.kafka_connection(), self.settings.topics.audit)
        # The ingest stage's records; the recipient stages' have tests of their own.
        return [r for r in (decode_record(v.value) for v in stored) if r.stage == "ingest"]

    def keys(self) -> PublicKeys:
        return key_store(self.settings).load().public_keys()


def _ingest(record: AuditRecord) -> bool:
    return record.stage == "ingest" or record.step is AuditStep.CHECKPOINT


def _ids(records: list[InboundRecord]) -> set[str | None]:
    return {r.header(h.EVENT_ID) for r in records}


def distinct(trail: list[AuditRecord]) -> list[AuditRecord]:
    """One record per audit id: a step recorded again after a crash is the same step."""
    return list({r.id: r for r in reversed(trail)}.values())


async def wait_for(predicate: Any, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.3)


async def test_every_event_and_dead_letter_has_exactly_one_audit_record(
    kafka: Any, tmp_path: Path
) -> None:
    run = Run(kafka, tmp_path, mixed_documents(300, 30, seed=31))
    await run.env.create_topics()
    hub = run.hub()
    try:
        await run.publish()
        events, dlq = await run.outputs(events=run.valid)
        projection = Projection(run.settings.projection_path)
        # At least: the one pass over the events records a `received` of its own for every
        # canonical event, so an exact count races it. The ingest stage's are counted on the
        # trail below.
        await wait_for(lambda: projection.count(AuditStep.RECEIVED) >= len(run.docs))
    finally:
        assert hub.stop() == 0, run.log_path.read_text()[-3000:]

    trail = await run.trail()
    published = Counter(r.message_id for r in trail if r.step is AuditStep.PUBLISHED)
    assert published == Counter(_ids(events)), "each canonical event exactly once"
    dead = Counter(r.entry_id for r in trail if r.step is AuditStep.DEAD_LETTERED)
    assert dead == Counter({r.header(h.DLQ_ID) for r in dlq})
    steps = Counter(r.step for r in trail)
    assert steps[AuditStep.RECEIVED] == len(run.docs) == len(run.inputs)
    assert steps[AuditStep.PUBLISHED] == run.valid
    assert steps[AuditStep.DEAD_LETTERED] == steps[AuditStep.REJECTED] == run.invalid
    assert len(trail) == len(distinct(trail)), "a clean run repeats nothing"

    keys = run.keys()
    assert all(verify_record(e, keys).message_id == e.header(h.EVENT_ID) for e in events)
    report = await verify_topics(
        kafka.connection,
        run.settings.topics.audit,
        run.settings.topics.audit_checkpoints,
        keys,
    )
    assert report.intact
    (writer,) = report.writers
    assert writer.closed, "a clean stop seals the chain"
    stored = await read_all(kafka.connection, run.settings.topics.audit)
    assert_no_identity_number_anywhere(run, stored=stored, events=events)
    assert_tail_verifies(run, count=len(events))


async def assert_trail_accounts_for_every_input(
    env: HubEnv,
    inputs: list[Position],
    events: list[InboundRecord],
    dead: list[InboundRecord],
    *,
    writers: int,
) -> None:
    """After a run with `writers - 1` kills: the trail verifies (only the last chain is sealed)
    and holds exactly one outcome for every input. Called by the kill test (test_kill.py)."""
    settings = env.settings()
    bootstrap = settings.kafka_connection()
    keys = key_store(settings).load().public_keys()
    topics = settings.topics
    report = await verify_topics(bootstrap, topics.audit, topics.audit_checkpoints, keys)
    assert report.intact, [str(f) for w in report.writers for f in w.findings]
    assert len(report.writers) == writers
    assert [w.closed for w in report.writers].count(True) == 1, "only the clean stop sealed"

    stored = await read_all(bootstrap, topics.audit)
    records = distinct([r for r in map(decode_record, (s.value for s in stored)) if _ingest(r)])
    received = {str(_position(r.input)) for r in records if r.step is AuditStep.RECEIVED}
    assert received == {str(p) for p in inputs}, "every input is on record"
    outcome = Counter(
        str(_position(r.input))
        for r in records
        if r.step in (AuditStep.PUBLISHED, AuditStep.DEAD_LETTERED)
    )
    assert set(outcome) == received
    assert set(outcome.values()) == {1}, "one outcome per input, repeats recognised"
    published = {r.message_id for r in records if r.step is AuditStep.PUBLISHED}
    assert published == _ids(events)
    dead_lettered = {r.entry_id for r in records if r.step is AuditStep.DEAD_LETTERED}
    assert dead_lettered == {r.header(h.DLQ_ID) for r in dead}


def assert_tail_verifies(run: Run, *, count: int) -> None:
    """`hub tail TOPIC --verify`, as an operator runs it, with the hub's own JWKS."""
    command = [
        sys.executable,
        "-m",
        "hub",
        "tail",
        run.settings.topics.events,
        "--verify",
        "--json",
    ]
    done = subprocess.run(
        command, env=run.env.environ(), capture_output=True, text=True, check=True, timeout=120
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == count
    kids = {line["signature"]["kid"] for line in lines if line["signature"]["verified"]}
    assert len(kids) == 1, "every record verified, under the one current key"
    assert all(line["signature"]["verified"] for line in lines)


def _position(where: Any) -> Position:
    return Position(where.topic, where.partition, where.offset)


def assert_no_identity_number_anywhere(
    run: Run, *, stored: list[InboundRecord], events: list[InboundRecord]
) -> None:
    numbers = {d.identity_number for d in run.docs}
    canonical = b"".join(e.value for e in events).decode()
    # The scan can find them: the canonical events carry them, as they must for the police.
    assert sum(n in canonical for n in numbers) > 10
    trail = b"\n".join(r.value for r in stored).decode()
    projection = run.settings.projection_path
    files = [p for p in projection.parent.glob(projection.name + "*") if p.is_file()]
    assert files, "the projection exists"
    places = {
        "audit topic": trail,
        "hub log": run.log_path.read_text("utf-8", errors="replace"),
        **{p.name: p.read_bytes().decode("latin-1") for p in files},
    }
    for where, text in places.items():
        leaked = [n for n in numbers if n in text]
        assert not leaked, f"{len(leaked)} identity numbers in clear in the {where}"
