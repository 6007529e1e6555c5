"""SIGKILL in the middle of a run: every document is still accounted for afterwards."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.kafka.reader import end_offsets
from hubdev.demo.synthetic import mixed_documents
from tests.e2e.harness import HubEnv, HubProcess, collect, ingest_only
from tests.e2e.test_audit_e2e import assert_trail_accounts_for_every_input
from tests.e2e.test_ingest import dead_letters_by_origin, distinct_events
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOTAL, INVALID = 2000, 40


async def outputs_so_far(env: HubEnv) -> int:
    topics = env.settings().topics
    counts = [await end_offsets(env.connection, t) for t in (topics.events, topics.dlq)]
    return sum(sum(c.values()) for c in counts)


async def wait_for_outputs(env: HubEnv, at_least: int, timeout_s: float = 60.0) -> int:
    deadline = time.monotonic() + timeout_s
    while (done := await outputs_so_far(env)) < at_least:
        assert time.monotonic() < deadline, f"only {done} outputs after {timeout_s} s"
        await asyncio.sleep(0.05)
    return done


async def test_sigkill_mid_run_loses_nothing(kafka: RunningKafka, tmp_path: Path) -> None:
    # Small batches: many commits, so the kill lands between a batch's outputs and its commit.
    env = HubEnv(kafka.connection, tmp_path / "hub", max_batch_records=20)
    await env.create_topics()
    docs = mixed_documents(TOTAL - INVALID, INVALID, seed=5)
    positions = await env.publish([d.raw for d in docs])

    first = HubProcess(env, tmp_path / "first.log")
    first.start()
    done_at_kill = await wait_for_outputs(env, at_least=TOTAL // 5)
    first.kill()
    assert done_at_kill < TOTAL, "the kill must come in the middle of the run"

    second = HubProcess(env, tmp_path / "second.log")
    second.start()
    topics = env.settings().topics
    events = await collect(
        env.connection,
        topics.events,
        until=lambda rs: len(distinct_events(rs)) >= TOTAL - INVALID,
        timeout_s=120,
    )
    dead = ingest_only(
        await collect(
            env.connection,
            topics.dlq,
            until=lambda rs: len(dead_letters_by_origin(ingest_only(rs))) >= INVALID,
            timeout_s=60,
        )
    )
    assert second.stop() == 0

    ids = {r.header("hub-source-event-id") for r in distinct_events(events).values()}
    origins = dead_letters_by_origin(dead)
    missing = [
        doc.hendelse_id
        for doc, position in zip(docs, positions, strict=True)
        if (doc.hendelse_id not in ids if doc.expected_reason is None else position not in origins)
    ]
    assert missing == [], f"{len(missing)} documents lost"
    assert len(distinct_events(events)) == TOTAL - INVALID
    # The audit trail survived the kill too: it verifies and has one outcome per input.
    await assert_trail_accounts_for_every_input(env, positions, events, dead, writers=2)
