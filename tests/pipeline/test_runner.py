"""The stage runner's decisions, on the in-memory sink: what each kind of failure does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position
from hub.pipeline.runner import DeliveryFailed, Effects, RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from schemas.errors import InputRejected, Reason, TransientError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0)


def record(
    offset: int, value: bytes = b"doc", headers: tuple[tuple[str, bytes], ...] = ()
) -> InboundRecord:
    return InboundRecord(Position("in.test.v1", 2, offset), b"k", value, headers)


def echo(rec: InboundRecord) -> Sequence[OutboundRecord]:
    if rec.value.startswith(b"bad"):
        raise InputRejected("the document says bad 12838545619", reason=Reason.INVALID_XML)
    return [OutboundRecord("out.v1", rec.key, rec.value.upper())]


def runner(step=echo, sink: MemorySink | None = None) -> tuple[StageRunner, MemorySink]:  # type: ignore[no-untyped-def]
    sink = sink or MemorySink()
    return StageRunner(
        stage="test", step=step, sink=sink, dlq_topic="dlq", retry=FAST, clock=lambda: NOW
    ), sink


async def test_outputs_are_published_in_input_order() -> None:
    stage, sink = runner()
    outcomes = await stage.run_batch([record(0, b"a"), record(1, b"b")])
    assert sink.values("out.v1") == [b"A", b"B"]
    assert [o.deliveries[0].position.offset for o in outcomes] == [0, 1]


async def test_permanent_failure_is_dead_lettered_with_everything_needed_to_replay() -> None:
    original = ((h.CONTENT_TYPE, b"application/xml"), ("x-raw", b"\xff\x00"))
    stage, sink = runner()
    outcomes = await stage.run_batch([record(7, b"bad doc", original), record(8, b"good")])

    assert sink.values("out.v1") == [b"GOOD"], "the record after a bad one still comes through"
    (entry,) = sink.topics["dlq"]
    assert entry.value == b"bad doc"
    assert entry.key == b"k"
    assert entry.headers[:2] == original, "the input's own headers are kept byte for byte"
    assert entry.header(h.DLQ_REASON) == "invalid_xml"
    assert entry.header(h.DLQ_STAGE) == "test"
    assert (
        entry.header(h.DLQ_TOPIC),
        entry.header(h.DLQ_PARTITION),
        entry.header(h.DLQ_OFFSET),
    ) == ("in.test.v1", "2", "7")
    assert entry.header(h.DLQ_ATTEMPTS) == "1"
    assert entry.header(h.DLQ_ERROR_CLASS) == "InputRejected"
    assert "12838545619" not in (entry.header(h.DLQ_REASON_TEXT) or "")
    assert outcomes[0].dead_lettered
    assert not outcomes[1].dead_lettered


async def test_transient_failure_recovers_after_retries() -> None:
    calls = []

    def flaky(rec: InboundRecord) -> Sequence[OutboundRecord]:
        calls.append(rec.position.offset)
        if len(calls) < 3:
            raise TransientError("lookup timed out", reason=Reason.TIMEOUT)
        return echo(rec)

    stage, sink = runner(flaky)
    await stage.run_batch([record(0, b"x")])
    assert calls == [0, 0, 0]
    assert sink.values("out.v1") == [b"X"]
    assert not sink.topics.get("dlq")


async def test_exhausted_retries_are_dead_lettered_with_the_last_error() -> None:
    def down(rec: InboundRecord) -> Sequence[OutboundRecord]:
        raise TransientError("store locked", reason=Reason.TIMEOUT)

    stage, sink = runner(down)
    await stage.run_batch([record(0)])
    (entry,) = sink.topics["dlq"]
    assert entry.header(h.DLQ_REASON) == "retries_exhausted"
    assert entry.header(h.DLQ_ATTEMPTS) == "3"
    assert entry.header(h.DLQ_ERROR_CLASS) == "TransientError"
    assert "timeout: store locked" in (entry.header(h.DLQ_REASON_TEXT) or "")


async def test_a_bug_in_a_step_dead_letters_the_record_and_the_stream_goes_on() -> None:
    def buggy(rec: InboundRecord) -> Sequence[OutboundRecord]:
        if rec.position.offset == 0:
            raise KeyError("Zqkari")  # a bug's message may quote anything
        return echo(rec)

    stage, sink = runner(buggy)
    await stage.run_batch([record(0), record(1, b"next")])
    assert sink.topics["dlq"][0].header(h.DLQ_REASON) == "internal_error"
    assert sink.topics["dlq"][0].header(h.DLQ_ERROR_CLASS) == "KeyError"
    assert "Zqkari" not in (sink.topics["dlq"][0].header(h.DLQ_REASON_TEXT) or "")
    assert sink.values("out.v1") == [b"NEXT"]


async def test_an_unacknowledged_output_fails_the_batch_so_it_is_not_committed() -> None:
    sink = MemorySink()
    sink.fail_next = 2
    stage, _ = runner(sink=sink)
    with pytest.raises(DeliveryFailed):
        await stage.run_batch([record(0, b"a"), record(1, b"b")])


async def test_dead_letter_id_is_the_same_when_the_same_input_fails_again() -> None:
    stage, sink = runner()
    await stage.run_batch([record(3, b"bad")])
    await stage.run_batch([record(3, b"bad")])
    first, second = sink.topics["dlq"]
    assert first.header(h.DLQ_ID) == second.header(h.DLQ_ID)


async def test_a_refused_output_dead_letters_its_input_and_a_refused_entry_is_cut() -> None:
    sink = MemorySink()
    sink.limits = {"out.v1": 100, "dlq": 70 * 1024}
    stage, _ = runner(sink=sink)
    huge = b"x" * (100 * 1024)

    outcomes = await stage.run_batch([record(0, b"fine"), record(1, huge), record(2, b"also")])

    assert [o.dead_lettered for o in outcomes] == [False, True, False]
    (entry,) = sink.topics["dlq"]
    assert entry.header(h.DLQ_REASON) == "output_rejected"
    assert entry.header(h.DLQ_ORIGINAL_SIZE) == str(len(huge))
    assert entry.value == huge[: 64 * 1024]
    assert outcomes[1].deliveries[0].record == entry


async def test_what_a_step_notes_reaches_its_outcome_unless_the_input_is_dead_lettered() -> None:
    def noting(rec: InboundRecord) -> Effects:
        return Effects(echo(rec), notes=(f"decided {rec.position.offset}",))

    sink = MemorySink()
    sink.limits = {"out.v1": 100}
    stage, _ = runner(step=noting, sink=sink)

    outcomes = await stage.run_batch(
        [record(0, b"fine"), record(1, b"x" * 1000), record(2, b"bad")]
    )

    assert [o.notes for o in outcomes] == [("decided 0",), (), ()]
    assert [o.dead_lettered for o in outcomes] == [False, True, True]


async def test_an_entry_not_even_its_first_bytes_fit_is_written_without_them() -> None:
    sink = MemorySink()
    sink.limits = {"dlq": 2000}
    stage, _ = runner(sink=sink)

    await stage.run_batch([record(0, b"bad" + b"x" * 5000)])

    (entry,) = sink.topics["dlq"]
    assert entry.value == b""
    assert entry.header(h.DLQ_REASON) == "invalid_xml"
    assert entry.header(h.DLQ_ORIGINAL_SIZE) == "5003"


async def test_a_dead_letter_topic_that_takes_nothing_stops_the_stage() -> None:
    sink = MemorySink()
    sink.limits = {"dlq": 10}
    stage, _ = runner(sink=sink)
    with pytest.raises(DeliveryFailed):
        await stage.run_batch([record(0, b"bad")])


async def test_a_key_too_large_for_the_dead_letter_topic_is_hashed_in_the_cut_entry() -> None:
    sink = MemorySink()
    sink.limits = {"dlq": 70 * 1024}
    stage, _ = runner(sink=sink)
    huge_key = b"k" * (200 * 1024)
    bad = InboundRecord(Position("in.test.v1", 2, 0), huge_key, b"bad document")

    (outcome,) = await stage.run_batch([bad])

    (entry,) = sink.topics["dlq"]
    assert outcome.deliveries[0].record == entry
    assert entry.key == b"sha256:" + hashlib.sha256(huge_key).hexdigest().encode()
    assert entry.header(h.DLQ_KEY) == base64.b64encode(entry.key).decode()
    assert entry.value == b"bad document"


async def test_a_large_input_is_stepped_in_a_thread_and_its_log_context_comes_back() -> None:
    import threading

    import structlog
    from structlog.testing import capture_logs

    from hub.pipeline.runner import bind_message_ids

    threads: list[int] = []

    def translate(rec: InboundRecord) -> Sequence[OutboundRecord]:
        threads.append(threading.get_ident())
        bind_message_ids(message_id="m-1", correlation_id="c-1", source_event_id="s-1")
        raise InputRejected("refused", reason=Reason.SCHEMA_VIOLATION)

    sink = MemorySink()
    stage = StageRunner(
        stage="ingest",
        step=translate,
        sink=sink,
        dlq_topic="dlq",
        retry=RetryPolicy(max_attempts=1),
        thread_over_bytes=4,
    )
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await stage.run_batch([record(0, b"large"), record(1, b"tiny")])
    stepped_in_thread, stepped_here = threads
    assert stepped_in_thread != threading.get_ident() == stepped_here
    dead = [e for e in logs if e["event"] == "record.dead_lettered"]
    assert [e.get("message_id") for e in dead] == ["m-1", "m-1"]


async def test_a_long_batch_gives_the_event_loop_turns_so_heartbeats_go_on() -> None:
    # Forty records of 2 ms of CPU each: 80 ms in all, which must not hold the loop in one go
    # (the consumers' heartbeats and the HTTP server run on it).
    def busy(rec: InboundRecord) -> Sequence[OutboundRecord]:
        until = time.perf_counter() + 0.002
        while time.perf_counter() < until:
            pass
        return echo(rec)

    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0)

    stage, sink = runner(busy)
    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await stage.run_batch([record(n) for n in range(40)])
    ended = time.perf_counter()
    ticking.cancel()
    during = [t for t in ticks if started <= t <= ended]
    gaps = [b - a for a, b in itertools.pairwise([started, *during, ended])]
    assert len(sink.values("out.v1")) == 40
    assert len(during) >= 4, "the loop had a turn now and then"
    assert max(gaps) < 0.06, f"the loop waited {max(gaps) * 1000:.0f} ms for a turn"
