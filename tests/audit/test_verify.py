"""The verifier on chains made in memory: each kind of damage is found and placed exactly
(writer, partition, offset, seq), and what the hub itself leaves behind is not damage."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from hub.audit.anchors import PinnedCheckpoint
from hub.audit.tools import pinned_checkpoints, seal_facts, sealable
from hub.audit.verify import TrailReport, verify_trail
from hub.audit.writer import ChainEntry, MemoryChainLog
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, Position
from hub.signing.signer import Signer
from schemas.audit import AuditRecord, AuditStep, decode_record, encode_record, record_hash
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys

# After the grace period: a writer without a closing checkpoint is gone.
LATER = timedelta(hours=1)


async def chain(
    n: int = 30, every: int = 10, close: bool = True, writer: str = "w1"
) -> tuple[MemoryChainLog, Signer]:
    """seq 0 starts; 5 records a segment; checkpoints at 11, 22, 33; closing at 34."""
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, n=n, every=every, close=close, writer=writer)
    return log, signer


async def write(
    log: MemoryChainLog,
    signer: Signer,
    *,
    n: int = 30,
    every: int = 10,
    close: bool = True,
    writer: str = "w1",
    at: datetime | None = None,
    retention_days: int | None = None,
) -> None:
    w = make_writer(log, signer, every=every, writer=writer)
    if at is not None:
        w._clock = lambda: at  # the writer reads the time through this seam
    w._retention_days = retention_days
    for start in range(0, n, 5):
        await w.append(facts(5, start=start))
    if close:
        await w.close()


def check(
    records: list[InboundRecord],
    log: MemoryChainLog,
    *signers: Signer,
    anchors: list[ChainEntry] | None = None,
    now: datetime | None = None,
    pinned: Sequence[PinnedCheckpoint] = (),
) -> TrailReport:
    kept = log.anchors if anchors is None else anchors
    return verify_trail(
        records, as_inbound(kept, "anchors"), public_keys(*signers), now=now, pinned=pinned
    )


def later() -> datetime:
    return datetime.now(UTC) + LATER


def kinds(report: TrailReport) -> list[tuple[str, int | None, int | None]]:
    return [
        (f.kind, f.seq, f.position.offset if f.position else None)
        for w in report.writers
        for f in w.findings
        if f.error
    ] + [(f.kind, f.seq, f.position.offset if f.position else None) for f in report.findings]


def forged_after(entries: Sequence[ChainEntry], n: int, *, start: int = 1000) -> list[ChainEntry]:
    """`n` records chained after the last of `entries`, as someone without the key makes them:
    right seq, right prev, no signature."""
    head = decode_record(entries[-1].value)
    prev, made = record_hash(entries[-1].value), []
    for offset, fact in enumerate(facts(n, start=start)):
        seq = head.seq + 1 + offset
        record = AuditRecord.chain(
            fact, writer=head.writer, seq=seq, prev=prev, time=datetime.now(UTC)
        )
        value = encode_record(record)
        made.append(ChainEntry(head.writer.encode(), value, (), 0, seq, record.id))
        prev = record_hash(value)
    return made


def unsigned(entries: Sequence[ChainEntry]) -> list[ChainEntry]:
    return [ChainEntry(e.key, e.value, (), e.timestamp_ms, e.seq, e.id) for e in entries]


async def test_an_untouched_chain_verifies() -> None:
    log, signer = await chain()
    report = check(as_inbound(log.records), log, signer)
    assert report.intact
    (writer,) = report.writers
    assert (writer.first_seq, writer.last_seq, writer.verified_to) == (0, 34, 34)
    assert (writer.signed_to, writer.anchored_to, writer.kid) == (34, 34, signer.kid)
    assert writer.closed


async def test_a_closed_chain_stays_intact_long_after() -> None:
    log, signer = await chain()
    assert check(as_inbound(log.records), log, signer, now=later() + timedelta(days=900)).intact


async def test_an_altered_record_is_named() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)
    data = json.loads(records[7].value)
    data["stage"] = "forged"
    records[7] = InboundRecord(records[7].position, None, json.dumps(data).encode())
    report = check(records, log, signer)
    assert not report.intact
    assert ("altered", 7, 7) in kinds(report)
    assert report.writers[0].verified_to == 6


async def test_a_deleted_record_in_the_middle_is_a_gap_at_its_place() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)
    del records[12]
    report = check(records, log, signer)
    assert kinds(report) == [("gap", 12, 13)]
    (finding,) = [f for f in report.writers[0].findings if f.error]
    assert (finding.writer, str(finding.position)) == ("w1", str(Position("hub.audit.v1", 0, 13)))
    assert "writer w1" in str(finding)


async def test_two_swapped_records_are_reordered() -> None:
    log, signer = await chain()
    entries = list(log.records)
    entries[20], entries[21] = entries[21], entries[20]
    found = kinds(check(as_inbound(entries), log, signer))
    assert found == [("reordered", 20, 21)]


async def test_a_truncated_tail_is_found_through_the_anchors() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)[:-6]
    report = check(records, log, signer)
    assert kinds(report) == [("unsigned", 28, 28), ("truncated", 29, 28)]
    assert not report.writers[0].closed


async def test_a_chain_deleted_whole_is_found_through_its_anchors() -> None:
    log, signer = await chain()
    report = check([], log, signer)
    assert not report.intact
    assert kinds(report)[0][0] == "truncated"


async def test_a_checkpoint_signed_with_a_key_that_is_not_the_hubs_is_refused() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)
    other = new_signer()
    record = decode_record(log.records[11].value)
    forged = other.sign(records[11].value, message_id=record.id, message_type="x")
    records[11] = InboundRecord(
        records[11].position, None, records[11].value, ((h.SIGNATURE, forged.encode()),)
    )
    assert ("bad_checkpoint", 11, 11) in kinds(check(records, log, signer))


async def test_a_checkpoint_re_signed_with_another_hub_key_is_the_wrong_key() -> None:
    log, signer = await chain()
    other = new_signer()  # a key of the hub too (a retired one, say), not the chain's
    records = as_inbound(log.records)
    record = decode_record(log.records[22].value)
    resigned = other.sign(
        records[22].value, message_id=record.id, message_type="no.justishub.audit.checkpoint.v1"
    )
    records[22] = InboundRecord(
        records[22].position, None, records[22].value, ((h.SIGNATURE, resigned.encode()),)
    )
    report = check(records, log, signer, other)
    assert ("wrong_key", 22, 22) in kinds(report)
    assert report.writers[0].verified_to == 21


async def test_a_chain_that_was_killed_is_open_but_intact_while_its_writer_is_live() -> None:
    log, signer = await chain(close=False)
    report = check(as_inbound(log.records), log, signer)
    assert report.intact
    (writer,) = report.writers
    assert not writer.closed
    (finding,) = writer.findings
    assert (finding.kind, finding.error) == ("open", False)
    assert "open since" in finding.detail


async def test_an_open_chain_fails_once_its_writer_is_gone() -> None:
    log, signer = await chain(close=False)
    report = check(as_inbound(log.records), log, signer, now=later())
    assert kinds(report) == [("open", 33, 33)]


async def test_a_record_that_is_not_an_audit_record_is_unreadable() -> None:
    log, signer = await chain()
    records = [
        *as_inbound(log.records),
        InboundRecord(as_inbound(log.records)[0].position, None, b"{"),
    ]
    assert ("unreadable", None, 0) in kinds(check(records, log, signer))


async def test_two_writers_are_checked_apart() -> None:
    log, signer = MemoryChainLog(), new_signer()
    one = make_writer(log, signer, writer="w1")
    two = make_writer(log, signer, writer="w2")
    await one.append(facts(3))
    await two.append(facts(3, stage="route"))
    await one.append(facts(3, start=3))
    await one.close()
    await two.close()
    report = check(as_inbound(log.records), log, signer)
    assert report.intact
    assert [(w.writer, w.last_seq) for w in report.writers] == [("w1", 7), ("w2", 4)]


# The cases that verified INTACT before the chain was signed as it grows.


async def test_a_forged_writer_without_checkpoints_is_refused() -> None:
    log, signer = await chain()
    forged_log = MemoryChainLog()
    await write(forged_log, new_signer(), n=10, every=1000, close=False, writer="forged")
    records = as_inbound([*log.records, *forged_log.records])
    report = check(records, log, signer)
    assert not report.intact
    forged = next(w for w in report.writers if w.writer == "forged")
    found = {(f.kind, f.seq, f.position.offset if f.position else None) for f in forged.findings}
    assert ("unknown_key", 0, 35) in found, "its start names a key the hub does not have"
    assert ("unsigned", 0, 35) in found
    assert ("bad_signature", 5, 40) in found
    assert all(f.writer == "forged" for f in forged.findings)
    assert next(w for w in report.writers if w.writer == "w1").intact, "the real one is not blamed"


async def test_a_forged_writer_naming_the_hubs_key_without_signatures_is_refused() -> None:
    log, signer = await chain()
    copy_log = MemoryChainLog()
    await write(copy_log, signer, n=10, every=1000, close=False, writer="forged")
    records = as_inbound([*log.records, *unsigned(copy_log.records)])
    forged = next(w for w in check(records, log, signer).writers if w.writer == "forged")
    assert [(f.kind, f.seq) for f in forged.findings if f.error] == [("unsigned", 0)]
    assert forged.verified_to == -1


async def test_records_appended_to_a_crashed_writers_chain_are_unsigned() -> None:
    log, signer = await chain(close=False)
    appended = forged_after(log.records, 3)
    report = check(as_inbound([*log.records, *appended]), log, signer)
    assert kinds(report) == [("unsigned", 34, 34)]
    assert report.writers[0].verified_to == 33


async def test_a_crashed_writers_tail_replaced_is_unsigned() -> None:
    log, signer = await chain(close=False)
    kept = log.records[:23]  # up to the checkpoint at seq 22; seqs 23..32 replaced
    replaced = forged_after(kept, 10)
    report = check(as_inbound([*kept, *replaced]), log, signer)
    assert ("unsigned", 23, 23) in kinds(report)


async def test_a_tail_cut_with_its_anchor_fails_once_the_writer_should_have_closed() -> None:
    log, signer = await chain()
    kept = log.records[:23]  # the closed chain cut back to its signed checkpoint at seq 22
    anchors = [a for a in log.anchors if decode_record(a.value).seq <= 22]
    live = check(as_inbound(kept), log, signer, anchors=anchors)
    assert live.intact, "within the grace period, it looks like a live writer"
    report = check(as_inbound(kept), log, signer, anchors=anchors, now=later())
    assert kinds(report) == [("open", 22, 22)]


async def test_a_tail_cut_with_its_anchor_is_found_at_once_through_an_anchor_file() -> None:
    log, signer = await chain()
    pinned = pinned_checkpoints(check(as_inbound(log.records), log, signer))
    kept = log.records[:23]
    anchors = [a for a in log.anchors if decode_record(a.value).seq <= 22]
    report = check(as_inbound(kept), log, signer, anchors=anchors, pinned=pinned)
    assert kinds(report) == [("truncated", 23, 22)]
    (truncated,) = [f for f in report.writers[0].findings if f.kind == "truncated"]
    assert "anchor file" in truncated.detail


async def test_a_writer_deleted_with_its_anchors_is_found_through_an_anchor_file() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="w1")
    await write(log, signer, writer="w2")
    pinned = pinned_checkpoints(check(as_inbound(log.records), log, signer))
    assert [(p.writer, p.seq) for p in pinned] == [("w1", 34), ("w2", 34)]
    without = [e for e in log.records if e.key != b"w2"]
    anchors = [a for a in log.anchors if a.key != b"w2"]
    assert check(as_inbound(without), log, signer, anchors=anchors).intact, "no trace inside"
    report = check(as_inbound(without), log, signer, anchors=anchors, pinned=pinned)
    gone = next(w for w in report.writers if w.writer == "w2")
    assert [(f.kind, f.seq, f.position) for f in gone.findings] == [("truncated", 0, None)]


async def test_all_anchors_deleted_are_found_once_the_writer_is_past_retrying() -> None:
    log, signer = await chain()
    assert check(as_inbound(log.records), log, signer, anchors=[]).intact
    report = check(as_inbound(log.records), log, signer, anchors=[], now=later())
    assert kinds(report) == [
        ("unanchored", 11, 11),
        ("unanchored", 22, 22),
        ("unanchored", 33, 33),
        ("unanchored", 34, 34),
    ]


async def test_an_anchor_file_that_was_edited_is_refused() -> None:
    log, signer = await chain()
    (pinned,) = pinned_checkpoints(check(as_inbound(log.records), log, signer))
    edited = PinnedCheckpoint(
        pinned.writer, 40, pinned.hash, pinned.time, pinned.position, pinned.value, pinned.signature
    )
    report = check(as_inbound(log.records), log, signer, pinned=[edited])
    assert [f.kind for f in report.findings] == ["bad_anchor"]


async def test_a_chain_rewritten_before_its_pinned_anchor_is_altered() -> None:
    log, signer = await chain()
    (pinned,) = pinned_checkpoints(check(as_inbound(log.records), log, signer))
    other = MemoryChainLog()
    await write(other, signer, n=35, every=1000)  # the same writer, other records
    report = check(as_inbound(other.records), log, signer, anchors=[], pinned=[pinned])
    assert ("altered", 34, 34) in kinds(report)


# Retention: the trail says how long it is kept, so a head gone by retention is not tampering.


async def test_a_head_older_than_the_recorded_retention_is_pruned_not_a_gap() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="old", at=datetime.now(UTC) - timedelta(days=400))
    await write(log, signer, writer="new", retention_days=365)
    records = [r for r in as_inbound(log.records) if not _is(r, "old", below=12)]
    anchors = [a for a in log.anchors if not (a.key == b"old" and decode_record(a.value).seq < 12)]
    report = check(records, log, signer, anchors=anchors)
    assert report.intact, kinds(report)
    assert report.retention_days == 365
    old = next(w for w in report.writers if w.writer == "old")
    assert [(f.kind, f.seq, f.error) for f in old.findings] == [("pruned", 0, False)]


async def test_a_deleted_head_within_the_retention_is_a_gap() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="old", at=datetime.now(UTC) - timedelta(days=100))
    await write(log, signer, writer="new", retention_days=365)
    records = [r for r in as_inbound(log.records) if not _is(r, "old", below=12)]
    report = check(records, log, signer)
    assert ("gap", 0, 12) in kinds(report)


async def test_a_deleted_head_is_a_gap_when_the_trail_is_kept_forever() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="old", at=datetime.now(UTC) - timedelta(days=4000))
    records = [r for r in as_inbound(log.records) if not _is(r, "old", below=12)]
    report = check(records, log, signer, anchors=[])
    assert report.retention_days is None
    assert ("gap", 0, 12) in kinds(report)


async def test_a_retention_in_an_unsigned_start_is_not_believed() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="old", at=datetime.now(UTC) - timedelta(days=400))
    forged = MemoryChainLog()
    await write(forged, signer, writer="new", retention_days=30, close=False)
    records = [
        r
        for r in as_inbound([*log.records, *unsigned(forged.records)])
        if not _is(r, "old", below=12)
    ]
    report = check(records, log, signer)
    assert report.retention_days is None
    assert ("gap", 0, 12) in kinds(report)


def _is(record: InboundRecord, writer: str, *, at_least: int = 0, below: int = 1 << 30) -> bool:
    parsed = decode_record(record.value)
    return parsed.writer == writer and at_least <= parsed.seq < below


async def test_a_start_record_is_first_and_names_the_key() -> None:
    log, signer = await chain()
    start = decode_record(log.records[0].value)
    assert (start.step, start.kid) == (AuditStep.STARTED, signer.kid)


# A killed writer's chain, sealed by an operator where it ended.


async def sealed_by_operator(
    log: MemoryChainLog, signer: Signer, *, why: str = "hub-1 was killed"
) -> TrailReport:
    """What `hub audit seal --execute` does: verify, then seal every dead writer in a chain of
    the operator's own."""
    report = check(as_inbound(log.records), log, signer, now=later())
    seals = seal_facts(sealable(report), operator="kari", why=why)
    operator = make_writer(log, signer, writer="op")
    await operator.append(seals)
    await operator.close()
    return report


async def test_a_dead_writer_sealed_where_it_ended_is_closed() -> None:
    log, signer = await chain(close=False)
    before = await sealed_by_operator(log, signer)
    assert [w.writer for w in sealable(before)] == ["w1"]
    report = check(as_inbound(log.records), log, signer, now=later() + timedelta(days=30))
    assert report.intact, kinds(report)
    w1 = next(w for w in report.writers if w.writer == "w1")
    assert w1.closed
    assert [(f.kind, f.seq, f.error) for f in w1.findings] == [("sealed", 33, False)]
    assert "kari" in w1.findings[0].detail


async def test_a_sealed_chain_cut_afterwards_is_truncated() -> None:
    log, signer = await chain(close=False)
    await sealed_by_operator(log, signer)
    records = [r for r in as_inbound(log.records) if not _is(r, "w1", at_least=23)]
    report = check(records, log, signer, anchors=[], now=later())
    assert ("truncated", 23, 22) in kinds(report)


async def test_records_after_the_seal_are_found() -> None:
    log, signer = MemoryChainLog(), new_signer()
    w1 = make_writer(log, signer, writer="w1")
    await w1.append(facts(5))
    await sealed_by_operator(log, signer)
    await w1.append(facts(5, start=5))  # it was not dead after all
    report = check(as_inbound(log.records), log, signer, now=later())
    assert ("sealed", 6, 9) in kinds(report), "w1's seq 6 is stored after the operator's chain"


async def test_a_seal_nobody_signed_is_not_believed() -> None:
    log, signer = await chain(close=False)
    report = check(as_inbound(log.records), log, signer, now=later())
    forged = MemoryChainLog()
    writer = make_writer(forged, signer, writer="op")
    await writer.append(seal_facts(sealable(report), operator="mallory", why="cover-up"))
    records = as_inbound([*log.records, *unsigned(forged.records)])
    assert ("open", 33, 33) in kinds(check(records, log, signer, now=later()))


async def test_only_a_writer_that_merely_died_is_sealable() -> None:
    log, signer = MemoryChainLog(), new_signer()
    await write(log, signer, writer="dead", close=False)
    await write(log, signer, writer="cut", close=False)
    await write(log, signer, writer="done")
    records = [r for r in as_inbound(log.records) if not _is(r, "cut", at_least=7, below=8)]
    report = check(records, log, signer, now=later())
    assert [w.writer for w in sealable(report)] == ["dead"]
    live = check(records, log, signer)
    assert sealable(live) == [], "a live writer is never sealed"


async def test_a_long_trail_is_checked_in_the_memory_of_its_hashes_not_its_records() -> None:
    # The running hub checks the whole trail every hour: holding each record whole (some 4 KB
    # parsed) took 7 GB for 1.6 million records. A row is about 90 bytes.
    n = 10_000
    log, signer = MemoryChainLog(), new_signer()
    w = make_writer(log, signer, every=5_000)
    for start in range(0, n, 500):
        await w.append(facts(500, start=start))
    await w.close()
    keys, anchors = public_keys(signer), as_inbound(log.anchors, "anchors")

    def fed_one_at_a_time() -> Iterator[InboundRecord]:
        for offset, e in enumerate(log.records):
            yield InboundRecord(
                Position("hub.audit.v1", 0, offset), e.key, e.value, e.headers, e.timestamp_ms
            )

    tracemalloc.start()
    try:
        report = verify_trail(fed_one_at_a_time(), anchors, keys)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.intact, report
    assert report.records == len(log.records) > n
    assert peak / report.records < 250, f"{peak / report.records:.0f} bytes a record"
