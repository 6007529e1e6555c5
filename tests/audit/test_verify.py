"""The verifier on chains made in memory: each kind of damage is found and placed exactly."""

from __future__ import annotations

import json

from hub.audit.verify import TrailReport, verify_trail
from hub.audit.writer import MemoryChainLog
from hub.pipeline.records import InboundRecord
from hub.signing.signer import Signer
from schemas.audit import decode_record
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys


async def chain(n: int = 30, every: int = 10, close: bool = True) -> tuple[MemoryChainLog, Signer]:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer, every=every)
    for start in range(0, n, 5):
        await writer.append(facts(5, start=start))
    if close:
        await writer.close()
    return log, signer


def check(records: list[InboundRecord], log: MemoryChainLog, signer: Signer) -> TrailReport:
    return verify_trail(records, as_inbound(log.anchors, "anchors"), public_keys(signer))


def kinds(report: TrailReport) -> list[tuple[str, int | None, int | None]]:
    return [
        (f.kind, f.seq, f.position.offset if f.position else None)
        for w in report.writers
        for f in w.findings
        if f.error
    ] + [(f.kind, f.seq, f.position.offset if f.position else None) for f in report.findings]


async def test_an_untouched_chain_verifies() -> None:
    log, signer = await chain()
    report = check(as_inbound(log.records), log, signer)
    assert report.intact
    (writer,) = report.writers
    assert (writer.first_seq, writer.last_seq, writer.verified_to) == (0, 33, 33)
    assert writer.closed
    assert writer.anchored_to == 33


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


async def test_a_deleted_record_is_a_gap_at_its_place() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)
    del records[12]
    assert kinds(check(records, log, signer)) == [("gap", 12, 13)]


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
    assert kinds(report) == [("truncated", 28, 27)]
    assert not report.writers[0].closed


async def test_a_chain_deleted_whole_is_found_through_its_anchors() -> None:
    log, signer = await chain()
    report = check([], log, signer)
    assert not report.intact
    assert kinds(report)[0][0] == "truncated"


async def test_a_forged_checkpoint_is_refused() -> None:
    log, signer = await chain()
    records = as_inbound(log.records)
    other = new_signer()
    index = next(i for i, e in enumerate(log.records) if decode_record(e.value).closing is False)
    record = decode_record(log.records[index].value)
    forged = other.sign(records[index].value, message_id=record.id, message_type="x")
    records[index] = InboundRecord(
        records[index].position, None, records[index].value, (("hub-signature", forged.encode()),)
    )
    assert ("bad_checkpoint", index, index) in kinds(check(records, log, signer))


async def test_a_chain_that_was_killed_is_open_but_intact() -> None:
    log, signer = await chain(close=False)
    report = check(as_inbound(log.records), log, signer)
    assert report.intact
    (writer,) = report.writers
    assert not writer.closed
    assert [f.kind for f in writer.findings] == ["open"]


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
    assert [(w.writer, w.last_seq) for w in report.writers] == [("w1", 6), ("w2", 3)]
