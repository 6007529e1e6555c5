"""Tamper tests on a real audit topic of more than 10,000 records: a writer fills it on the
real broker, then copies with one record altered, one deleted, two reordered, the tail cut off
and a forged writer's chain written straight to the topic are each caught by the verifier at the
right position; the untouched copy verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from hub.audit.tools import read_all, verify_topics
from hub.audit.verify import TrailReport
from hub.audit.writer import AuditWriter, MemoryChainLog
from hub.kafka.admin import TopicSpec, ensure_topics
from hub.kafka.chain import KafkaChainLog, build_chain_producer, writer_partition
from hub.pipeline.records import InboundRecord
from hub.settings import HubSettings
from hub.signing.keys import KeyStore
from hub.signing.signer import Signer
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys

pytestmark = [pytest.mark.kafka]

RECORDS = 10_000
EVERY = 1_000


class Trail:
    def __init__(self, kafka: Any, signer: Signer, topic: str, anchors: str) -> None:
        self.bootstrap = kafka.connection
        self.signer, self.topic, self.anchors = signer, topic, anchors
        self.records: list[InboundRecord] = []

    async def copy(self, records: Sequence[InboundRecord]) -> str:
        """A new one-partition topic holding `records`' bytes in the given order."""
        name = f"audit-copy-{uuid.uuid4().hex[:8]}"
        await ensure_topics(self.bootstrap, [TopicSpec(name, 1)])
        producer = AIOKafkaProducer(**self.bootstrap.aiokafka(), max_batch_size=1 << 20)
        await producer.start()
        try:
            for start in range(0, len(records), 1_000):
                batch = producer.create_batch()
                for r in records[start : start + 1_000]:
                    batch.append(key=r.key, value=r.value, timestamp=None, headers=list(r.headers))
                await (await producer.send_batch(batch, name, partition=0))
        finally:
            await producer.stop()
        return name

    async def verify(self, topic: str) -> TrailReport:
        return await verify_topics(self.bootstrap, topic, self.anchors, public_keys(self.signer))


@pytest.fixture(scope="module")
async def trail(kafka: Any) -> Trail:
    suffix = uuid.uuid4().hex[:8]
    topic, anchors = f"audit-{suffix}", f"audit-anchors-{suffix}"
    await ensure_topics(kafka.connection, [TopicSpec(topic, 3), TopicSpec(anchors, 3)])
    made = Trail(kafka, new_signer(), topic, anchors)
    producer = build_chain_producer(
        kafka.connection, kafka.kafka_settings(), client_id="tamper-test"
    )
    await producer.start()
    try:
        writer = AuditWriter(
            KafkaChainLog(
                producer,
                topic=topic,
                partition=await writer_partition(producer, topic, "w-tamper"),
                anchor_topic=anchors,
                anchor_partition=await writer_partition(producer, anchors, "w-tamper"),
            ),
            signer=made.signer,
            writer_id="w-tamper",
            checkpoint_every_records=EVERY,
            checkpoint_every_s=3600,
        )
        for start in range(0, RECORDS, 500):
            await writer.append(facts(500, start=start))
        await writer.close()
    finally:
        await producer.stop()
    made.records = sorted(await read_all(kafka.connection, topic), key=lambda r: r.position.offset)
    return made


def errors(report: TrailReport) -> list[tuple[str, int | None, int | None]]:
    found = [f for w in report.writers for f in w.findings if f.error] + report.findings
    return [(f.kind, f.seq, f.position.offset if f.position else None) for f in found]


async def test_the_trail_as_written_verifies(trail: Trail) -> None:
    # The start record, the records, a checkpoint every EVERY and the closing one.
    assert len(trail.records) == 1 + RECORDS + RECORDS // EVERY + 1
    assert {r.position.partition for r in trail.records} == {trail.records[0].position.partition}
    report = await trail.verify(trail.topic)
    assert report.intact, errors(report)
    (writer,) = report.writers
    assert (writer.verified_to, writer.signed_to, writer.anchored_to, writer.closed) == (
        RECORDS + 11,
        RECORDS + 11,
        RECORDS + 11,
        True,
    )


async def test_an_untouched_copy_verifies(trail: Trail) -> None:
    report = await trail.verify(await trail.copy(trail.records))
    assert report.intact, errors(report)


async def test_one_altered_record_is_named(trail: Trail) -> None:
    records = list(trail.records)
    data = json.loads(records[5_000].value)
    data["input"]["offset"] += 1
    altered = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    records[5_000] = InboundRecord(records[5_000].position, records[5_000].key, altered)
    report = await trail.verify(await trail.copy(records))
    assert errors(report) == [("altered", 5_000, 5_000)]


async def test_one_deleted_record_is_a_gap_at_its_place(trail: Trail) -> None:
    records = list(trail.records)
    del records[3_000]
    report = await trail.verify(await trail.copy(records))
    assert errors(report) == [("gap", 3_000, 3_000)]


async def test_two_reordered_records_are_named(trail: Trail) -> None:
    records = list(trail.records)
    records[7_000], records[7_001] = records[7_001], records[7_000]
    report = await trail.verify(await trail.copy(records))
    assert errors(report) == [("reordered", 7_000, 7_001)]


async def test_a_truncated_tail_is_found_through_the_anchors(trail: Trail) -> None:
    records = trail.records[:-300]
    report = await trail.verify(await trail.copy(records))
    last = len(records) - 1
    # Segments of 500 records, each ending in a signed head; the cut lands inside one.
    assert errors(report) == [("unsigned", 9_510, 9_510), ("truncated", last + 1, last)]


async def test_a_forged_writer_written_straight_to_the_topic_is_refused(trail: Trail) -> None:
    forged = MemoryChainLog()
    writer = make_writer(forged, new_signer(), every=100, writer="w-forged")
    for start in range(0, 300, 50):
        await writer.append(facts(50, start=start))
    await writer.close()
    records = [*trail.records, *as_inbound(forged.records)]
    report = await trail.verify(await trail.copy(records))
    first = len(trail.records)
    (real,) = [w for w in report.writers if w.writer == "w-tamper"]
    assert real.intact, "the real writer is not blamed"
    (fake,) = [w for w in report.writers if w.writer == "w-forged"]
    found = [(f.kind, f.seq, f.position.offset if f.position else None) for f in fake.findings]
    assert ("unknown_key", 0, first) in found, "its start names a key that is not the hub's"
    assert ("unsigned", 0, first) in found
    assert ("bad_signature", 50, first + 50) in found
    assert ("bad_checkpoint", 101, first + 101) in found
    assert all(f.writer == "w-forged" and f.position.topic != trail.topic for f in fake.findings)
    assert fake.verified_to == -1


@pytest.mark.slow
def test_hub_audit_verify_names_the_position_and_exits_non_zero(
    trail: Trail, tmp_path: Path, kafka: Any
) -> None:
    import asyncio

    records = list(trail.records)
    del records[4_242]
    broken = asyncio.run(trail.copy(records))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [trail.signer.public_jwk]}))
    env = {**os.environ, **kafka.environ()}
    args = ["--checkpoints", trail.anchors, "--jwks", str(jwks)]

    def hub_verify(topic: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "hub", "audit", "verify", "--topic", topic, *args]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    bad = hub_verify(broken)
    assert bad.returncode == 1, bad.stderr
    assert "gap seq 4242" in bad.stdout
    assert f"{broken}[0]@4242" in bad.stdout
    good = hub_verify(trail.topic)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "INTACT" in good.stdout


@pytest.mark.slow
def test_an_anchor_file_kept_outside_finds_a_tail_cut_with_its_anchors(
    trail: Trail, tmp_path: Path, kafka: Any
) -> None:
    import asyncio

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [trail.signer.public_jwk]}))
    env = {**os.environ, **kafka.environ()}

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "hub", "audit", *args, "--jwks", str(jwks)]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    kept = tmp_path / "anchors.json"
    exported = hub(
        "anchor", "export", str(kept), "--topic", trail.topic, "--checkpoints", trail.anchors
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "1 writers anchored" in exported.stdout
    assert f"checkpoint seq {RECORDS + 11}" in exported.stdout
    # Cut back to the checkpoint at seq 9009, the anchors after it deleted with it.
    cut = asyncio.run(trail.copy(trail.records[: 9_009 + 1]))
    no_anchors = asyncio.run(trail.copy([]))
    args = ["--topic", cut, "--checkpoints", no_anchors]
    unseen = hub("verify", *args)
    assert unseen.returncode == 0, "inside the cluster it looks like a live writer's open tail"
    assert "open since" in unseen.stdout
    seen = hub("verify", *args, "--anchors", str(kept))
    assert seen.returncode == 1, seen.stdout + seen.stderr
    assert f"truncated seq 9010 at {cut}[0]@9009 (writer w-tamper)" in seen.stdout
    assert "anchor file" in seen.stdout


@pytest.mark.slow
def test_an_operator_seals_a_dead_writer_and_the_trail_verifies_again(
    trail: Trail, tmp_path: Path, kafka: Any
) -> None:
    import asyncio

    env = {
        **os.environ,
        **kafka.environ(),
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_OPERATOR": "kari",
    }
    store = KeyStore(tmp_path / "keys", HubSettings().signing.passphrase)
    store.generate()
    # A hub process killed two hours ago: its chain is signed, but never closed.
    dead = MemoryChainLog()
    writer = make_writer(dead, store.signer(), every=100, writer="w-killed")
    writer._clock = lambda: datetime.now(UTC) - timedelta(hours=2)  # the writer's clock seam
    for start in range(0, 250, 50):
        asyncio.run(writer.append(facts(50, start=start)))
    env["HUB_TOPICS__AUDIT"] = asyncio.run(trail.copy(as_inbound(dead.records)))
    env["HUB_TOPICS__AUDIT_CHECKPOINTS"] = asyncio.run(trail.copy(as_inbound(dead.anchors)))

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "hub", "audit", *args]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    before = hub("verify")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "open seq 252" in before.stdout
    planned = hub("seal", "--why", "killed by the chaos suite")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "writer w-killed: ends at seq 252" in planned.stdout
    assert "(dry run)" in planned.stdout
    assert hub("verify").returncode == 1, "a dry run seals nothing"
    sealed = hub("seal", "--why", "killed by the chaos suite", "--execute")
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert "1 dead writers sealed by kari" in sealed.stdout
    after = hub("verify")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "sealed seq 252" in after.stdout
    assert "kari" in after.stdout
