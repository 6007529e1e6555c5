"""The writer's chain: numbered without gaps, hashed, checkpointed, and never forked by a
failed send."""

from __future__ import annotations

import itertools
import json

import pytest

from hub.audit.verify import verify_trail
from hub.audit.writer import MemoryChainLog
from hub.pipeline import headers as h
from schemas.audit import (
    CHECKPOINT_TYPE,
    GENESIS,
    HEAD_TYPE,
    AuditStep,
    decode_record,
    record_hash,
)
from schemas.errors import TransientError
from schemas.signature import verify
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys


async def test_records_are_numbered_and_each_names_the_hash_of_the_one_before() -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(3))
    records = [decode_record(e.value) for e in log.records]
    assert [r.seq for r in records] == [0, 1, 2, 3]
    assert records[0].prev == GENESIS
    assert records[1].prev == record_hash(log.records[0].value)
    assert records[2].prev == record_hash(log.records[1].value)
    assert records[3].prev == record_hash(log.records[2].value)
    assert {r.writer for r in records} == {"w1"}


async def test_a_chain_starts_with_a_record_naming_its_key_and_retention() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    writer._retention_days = 3650  # the setting, as the service passes it
    await writer.append(facts(2))
    await writer.append(facts(2, start=2))
    start = decode_record(log.records[0].value)
    assert (start.step, start.seq, start.kid, start.retention_days) == (
        AuditStep.STARTED,
        0,
        signer.kid,
        3650,
    )
    assert [decode_record(e.value).step for e in log.records].count(AuditStep.STARTED) == 1


async def test_the_last_record_of_every_segment_is_signed_and_only_that_one() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    await writer.append(facts(3))
    await writer.append(facts(2, start=3))
    signed = [i for i, e in enumerate(log.records) if h.SIGNATURE in dict(e.headers)]
    assert signed == [3, 5], "one signature per segment, on its head"
    head = log.records[5]
    record = decode_record(head.value)
    claims = verify(
        head.value,
        dict(head.headers)[h.SIGNATURE],
        {"keys": [signer.public_jwk]},
        expected_id=record.id,
        expected_type=HEAD_TYPE,
    )
    assert claims.kid == signer.kid


async def test_a_signed_checkpoint_follows_every_n_records_and_is_anchored_outside() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer, every=5)
    for start in range(0, 12, 3):
        await writer.append(facts(3, start=start))
    steps = [decode_record(e.value).step for e in log.records]
    checkpoints = [i for i, s in enumerate(steps) if s is AuditStep.CHECKPOINT]
    assert checkpoints == [7, 14], "after the segment that reached 5 records since the last"
    assert [a.value for a in log.anchors] == [log.records[i].value for i in checkpoints]
    checkpoint = log.records[7]
    record = decode_record(checkpoint.value)
    assert record.prev == record_hash(log.records[6].value), "it vouches for the head before it"
    claims = verify(
        checkpoint.value,
        dict(checkpoint.headers)[h.SIGNATURE],
        {"keys": [signer.public_jwk]},
        expected_id=record.id,
        expected_type=CHECKPOINT_TYPE,
    )
    assert claims.kid == signer.kid


async def test_a_checkpoint_after_t_seconds_even_with_few_records() -> None:
    now = [0.0]
    log = MemoryChainLog()
    writer = make_writer(log, new_signer(), every=1000, every_s=10.0)
    writer._monotonic = lambda: now[0]  # the writer reads its clock through this seam
    writer._last_checkpoint_at = 0.0
    await writer.append(facts(2))
    await writer.tick()
    assert len(log.anchors) == 0
    now[0] = 11.0
    await writer.tick()
    assert len(log.anchors) == 1
    await writer.tick()
    assert len(log.anchors) == 1, "no new records, no new checkpoint"


async def test_an_idle_writer_still_writes_a_heartbeat_checkpoint() -> None:
    now = [0.0]
    log = MemoryChainLog()
    writer = make_writer(log, new_signer(), every=1000, every_s=10.0)
    writer._monotonic = lambda: now[0]  # the writer reads its clock through this seam
    writer._last_checkpoint_at = 0.0
    await writer.tick()
    assert log.records == [], "a writer that recorded nothing says nothing"
    await writer.append(facts(1))
    now[0] = 11.0
    await writer.tick()
    now[0] = 200.0
    await writer.tick()
    assert len(log.anchors) == 1, "idle for less than the heartbeat"
    now[0] = 11.0 + 300.0
    await writer.tick()
    assert len(log.anchors) == 2
    last = decode_record(log.records[-1].value)
    assert (last.step, last.closing) == (AuditStep.CHECKPOINT, False)


async def test_close_seals_the_chain_with_a_closing_checkpoint() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    await writer.append(facts(4))
    await writer.close()
    last = decode_record(log.records[-1].value)
    assert (last.step, last.closing, last.seq) == (AuditStep.CHECKPOINT, True, 5)
    report = verify_trail(as_inbound(log.records), as_inbound(log.anchors), public_keys(signer))
    assert report.intact
    assert report.writers[0].closed
    assert report.writers[0].verified_to == 5


async def test_a_writer_without_records_leaves_nothing_behind() -> None:
    log = MemoryChainLog()
    await make_writer(log, new_signer()).close()
    assert log.records == []
    assert log.anchors == []


async def test_a_failed_segment_is_sent_again_byte_identically_before_anything_newer() -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(2))
    log.fail_next = 1
    with pytest.raises(TransientError):
        await writer.append(facts(2, start=2))
    assert writer.pending == 2
    # The stage's batch is consumed again: the same facts, plus whatever comes next.
    await writer.append(facts(2, start=2))
    seqs = [decode_record(e.value).seq for e in log.records]
    assert seqs == [0, 1, 2, 3, 4, 5, 6], "the failed segment first, then the repeat, no gap"
    ids = [decode_record(e.value).id for e in log.records]
    assert ids[3:5] == ids[5:7], "a repeated step keeps its id: recognisable as a repeat"


async def test_a_send_that_was_stored_but_not_acknowledged_becomes_a_benign_duplicate() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    await writer.append(facts(2))
    log.fail_next, log.store_before_failing = 1, True
    with pytest.raises(TransientError):
        await writer.append(facts(2, start=2))
    await writer.append([])
    await writer.close()
    assert [decode_record(e.value).seq for e in log.records] == [0, 1, 2, 3, 4, 3, 4, 5]
    report = verify_trail(as_inbound(log.records), as_inbound(log.anchors), public_keys(signer))
    assert report.intact, [str(f) for f in report.writers[0].findings]
    assert report.writers[0].duplicates == 2


async def test_a_failed_anchor_does_not_fail_the_batch_and_is_sent_later() -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer(), every=2)
    calls = {"n": 0}
    original = log.anchor

    async def flaky_anchor(entry):  # type: ignore[no-untyped-def]  # test double
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("anchor topic away")
        return await original(entry)

    log.anchor = flaky_anchor  # type: ignore[method-assign]  # test double
    await writer.append(facts(2))
    assert log.anchors == []
    await writer.append(facts(2, start=2))
    assert [decode_record(a.value).seq for a in log.anchors] == [3, 6]


async def test_large_batches_are_split_into_segments_in_order() -> None:
    log = MemoryChainLog()
    segments: list[int] = []
    original = log.append

    async def counting(segment):  # type: ignore[no-untyped-def]  # test double
        segments.append(len(segment))
        return await original(segment)

    log.append = counting  # type: ignore[method-assign]  # test double
    writer = make_writer(log, new_signer(), every=100_000)
    await writer.append(facts(3000))
    assert len(segments) > 1
    assert [decode_record(e.value).seq for e in log.records] == list(range(3001))
    last_of_each = list(itertools.accumulate(segments, initial=-1))[1:]
    signed = [i for i, e in enumerate(log.records) if h.SIGNATURE in dict(e.headers)]
    assert signed == last_of_each, "every segment ends in a signed head"


async def test_records_are_canonical_json_without_nulls() -> None:
    log = MemoryChainLog()
    await make_writer(log, new_signer()).append(facts(1))
    value = log.records[1].value
    data = json.loads(value)
    assert None not in data.values()
    assert value == json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
