"""The writer's chain: numbered without gaps, hashed, checkpointed, and never forked by a
failed send."""

from __future__ import annotations

import json

import pytest

from hub.audit.verify import verify_trail
from hub.audit.writer import MemoryChainLog
from hub.pipeline import headers as h
from schemas.audit import CHECKPOINT_TYPE, GENESIS, AuditStep, decode_record, record_hash
from schemas.errors import TransientError
from schemas.signature import verify
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys


async def test_records_are_numbered_and_each_names_the_hash_of_the_one_before() -> None:
    log = MemoryChainLog()
    writer = make_writer(log, new_signer())
    await writer.append(facts(3))
    records = [decode_record(e.value) for e in log.records]
    assert [r.seq for r in records] == [0, 1, 2]
    assert records[0].prev == GENESIS
    assert records[1].prev == record_hash(log.records[0].value)
    assert records[2].prev == record_hash(log.records[1].value)
    assert {r.writer for r in records} == {"w1"}


async def test_a_signed_checkpoint_follows_every_n_records_and_is_anchored_outside() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer, every=5)
    for start in range(0, 12, 3):
        await writer.append(facts(3, start=start))
    steps = [decode_record(e.value).step for e in log.records]
    checkpoints = [i for i, s in enumerate(steps) if s is AuditStep.CHECKPOINT]
    assert checkpoints == [6, 13], "after the segment that reached 5 records since the last"
    assert [a.value for a in log.anchors] == [log.records[i].value for i in checkpoints]
    checkpoint = log.records[6]
    record = decode_record(checkpoint.value)
    assert record.prev == record_hash(log.records[5].value), "it vouches for the head before it"
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


async def test_close_seals_the_chain_with_a_closing_checkpoint() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    await writer.append(facts(4))
    await writer.close()
    last = decode_record(log.records[-1].value)
    assert (last.step, last.closing, last.seq) == (AuditStep.CHECKPOINT, True, 4)
    report = verify_trail(as_inbound(log.records), as_inbound(log.anchors), public_keys(signer))
    assert report.intact
    assert report.writers[0].closed
    assert report.writers[0].verified_to == 4


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
    assert seqs == [0, 1, 2, 3, 4, 5], "the failed segment first, then the repeat, no gap"
    ids = [decode_record(e.value).id for e in log.records]
    assert ids[2:4] == ids[4:6], "a repeated step keeps its id: recognisable as a repeat"


async def test_a_send_that_was_stored_but_not_acknowledged_becomes_a_benign_duplicate() -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer)
    await writer.append(facts(2))
    log.fail_next, log.store_before_failing = 1, True
    with pytest.raises(TransientError):
        await writer.append(facts(2, start=2))
    await writer.append([])
    await writer.close()
    assert [decode_record(e.value).seq for e in log.records] == [0, 1, 2, 3, 2, 3, 4]
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
    assert [decode_record(a.value).seq for a in log.anchors] == [2, 5]


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
    assert [decode_record(e.value).seq for e in log.records] == list(range(3000))


async def test_records_are_canonical_json_without_nulls() -> None:
    log = MemoryChainLog()
    await make_writer(log, new_signer()).append(facts(1))
    value = log.records[0].value
    data = json.loads(value)
    assert None not in data.values()
    assert value == json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
