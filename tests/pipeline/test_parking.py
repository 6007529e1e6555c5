"""Per-person order: a failed input holds back that person's later inputs until it is resolved."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.pipeline import headers as h
from hub.pipeline.control import Screen, seal
from hub.pipeline.deadletter import dead_letter_id
from hub.pipeline.parking import Parking, ParkingBook, ParkingState, parking_key, state_record
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.pipeline.runner import DeliveryFailed, RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.signing.signer import Signer
from schemas.errors import InputRejected, Reason
from schemas.signature import PublicKeys

SIGNER = Signer(Ed25519PrivateKey.generate())

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GROUP = "test.stage"


def step(record: InboundRecord) -> Sequence[OutboundRecord]:
    if record.value.startswith(b"bad"):
        raise InputRejected("bad input", reason=Reason.SCHEMA_VIOLATION)
    return [OutboundRecord("out", record.key, record.value)]


class Stage:
    """A stage with parking whose book reads back what the stage wrote, as the follower does."""

    def __init__(self, *, per_topic: bool = False) -> None:
        self.sink = MemorySink()
        self.book = ParkingBook()
        self.parking = Parking(
            group=GROUP, topic="parking", book=self.book, catch_up=self._read, per_topic=per_topic
        )
        self.runner = StageRunner(
            stage="test",
            group=GROUP,
            step=step,
            sink=self.sink,
            dlq_topic="dlq",
            parking=self.parking,
            # As at ingest: the input topic is written by a source.
            screen=Screen(
                PublicKeys.from_jwks({"keys": [SIGNER.public_jwk]}), untrusted_topic=True
            ),
            retry=RetryPolicy(max_attempts=1),
            clock=lambda: NOW,
        )
        self._read_upto = 0

    async def _read(self) -> None:
        written = self.sink.topics.get("parking", [])
        as_read = [
            InboundRecord(Position("parking", 0, i), r.key, r.value or b"")
            for i, r in enumerate(written[self._read_upto :], start=self._read_upto)
        ]
        self.book.apply_records(as_read)
        self._read_upto = len(written)

    async def run(self, *records: InboundRecord) -> None:
        await self.runner.run_batch(list(records))

    def out(self) -> list[bytes]:
        return self.sink.values("out")

    def dlq(self) -> list[OutboundRecord]:
        return self.sink.topics.get("dlq", [])


def rec(offset: int, value: bytes, person: bytes | None = b"pk-a", **headers: str) -> InboundRecord:
    return InboundRecord(Position("in", 0, offset), person, value, text_headers(headers.items()))


def replay_of(
    entry: OutboundRecord,
    offset: int,
    group: str = GROUP,
    value: bytes | None = None,
    signer: Signer | None = SIGNER,
) -> InboundRecord:
    """What `hub dlq replay` puts back: the original input with replay headers, sealed by the
    hub (`signer=None`: as a source would forge it)."""
    kept = tuple((k, v) for k, v in entry.headers if not k.startswith(h.DLQ_PREFIX))
    extra = text_headers([(h.REPLAY_OF, entry.header(h.DLQ_ID) or ""), (h.REPLAY_GROUP, group)])
    body = value or entry.value or b""
    headers = seal(kept + extra, entry.key, body, signer) if signer else kept + extra
    return InboundRecord(Position("in", 0, offset), entry.key, body, headers)


def release_of(
    entry: OutboundRecord, offset: int, signer: Signer | None = SIGNER, **extra: str
) -> InboundRecord:
    """The control record `hub dlq discard` sends to let the person through."""
    headers = text_headers(
        [
            (h.CONTROL, "release"),
            (h.REPLAY_OF, entry.header(h.DLQ_ID) or ""),
            (h.REPLAY_GROUP, GROUP),
        ]
    ) + text_headers(extra.items())
    sealed = seal(headers, entry.key, b"", signer) if signer else headers
    return InboundRecord(Position("in", 0, offset), entry.key, b"", sealed)


async def test_later_inputs_of_the_person_are_parked_others_flow() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"), rec(2, b"b-1", person=b"pk-b"))
    await stage.run(rec(3, b"a-3"))

    assert stage.out() == [b"b-1"], "another person is not held up"
    blocker, *parked = stage.dlq()
    assert blocker.header(h.DLQ_REASON) == "schema_violation"
    assert [p.header(h.DLQ_REASON) for p in parked] == ["parked", "parked"]
    assert {p.header(h.DLQ_PARKED_BEHIND) for p in parked} == {blocker.header(h.DLQ_ID)}
    assert stage.book.get(GROUP, "pk-a") == blocker.header(h.DLQ_ID)


async def test_replay_releases_in_order_and_later_inputs_follow() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"), rec(2, b"a-3"))
    blocker, p1, p2 = stage.dlq()
    # The cause is fixed: the replayed blocker now succeeds (here: a corrected value).
    await stage.run(
        replay_of(blocker, 3, value=b"fixed-1"), replay_of(p1, 4), replay_of(p2, 5), rec(6, b"a-4")
    )
    assert stage.out() == [b"fixed-1", b"a-2", b"a-3", b"a-4"]
    await stage.parking.begin_batch()  # read back what the batch wrote
    assert stage.book.get(GROUP, "pk-a") is None


async def test_a_blocker_that_fails_again_blocks_again_and_keeps_its_queue() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"))
    blocker, p1 = stage.dlq()
    await stage.run(replay_of(blocker, 2), replay_of(p1, 3))
    new_blocker = stage.dlq()[2]
    assert new_blocker.header(h.DLQ_REASON) == "schema_violation"
    assert stage.dlq()[3].header(h.DLQ_PARKED_BEHIND) == new_blocker.header(h.DLQ_ID)
    assert stage.out() == []


async def test_a_release_control_record_lets_the_person_through() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    (blocker,) = stage.dlq()
    outcomes = await stage.runner.run_batch([release_of(blocker, 1), rec(2, b"a-2")])
    assert stage.out() == [b"a-2"]
    assert [o.record.position.offset for o in outcomes] == [2], "a control record is no outcome"


async def test_replays_for_another_stage_on_the_same_topic_are_ignored() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    (blocker,) = stage.dlq()
    outcomes = await stage.runner.run_batch([replay_of(blocker, 1, group="other.stage")])
    assert outcomes == []
    assert len(stage.dlq()) == 1


async def test_a_redelivered_blocker_is_the_blocker_not_parked_behind_itself() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    await stage.run(rec(0, b"bad-1"))  # the same input again, as after a crash before commit
    first, again = stage.dlq()
    assert first.header(h.DLQ_ID) == again.header(h.DLQ_ID) == dead_letter_id("test", rec(0, b""))
    assert again.header(h.DLQ_REASON) == "schema_violation"
    assert len(stage.sink.topics["parking"]) == 1, "the block is written once"


async def test_a_batch_that_fails_to_deliver_leaves_no_parking_state_behind() -> None:
    stage = Stage()
    stage.sink.fail_next = 1  # the broker does not take the batch: it is not committed
    with pytest.raises(DeliveryFailed):
        await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"))
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"))  # redelivered
    await stage.parking.begin_batch()
    assert len(stage.sink.topics["parking"]) == 1, "the block is written on redelivery"
    assert stage.book.get(GROUP, "pk-a") is not None
    assert [e.header(h.DLQ_REASON) for e in stage.dlq()][-2:] == ["schema_violation", "parked"]


async def test_an_input_whose_output_is_refused_blocks_its_person_from_the_next_batch() -> None:
    stage = Stage()
    stage.sink.limits = {"out": 100}
    await stage.run(rec(0, b"a" * 200), rec(1, b"b-1", person=b"pk-b"))
    await stage.run(rec(2, b"a-2"))

    blocker, parked = stage.dlq()
    assert blocker.header(h.DLQ_REASON) == "output_rejected"
    assert parked.header(h.DLQ_PARKED_BEHIND) == blocker.header(h.DLQ_ID)
    assert stage.out() == [b"b-1"]
    assert stage.book.get(GROUP, "pk-a") == blocker.header(h.DLQ_ID)


async def test_an_input_whose_dead_letter_had_to_be_cut_still_blocks_its_person() -> None:
    stage = Stage()
    stage.sink.limits = {"dlq": 70 * 1024}
    await stage.run(rec(0, b"bad" + b"x" * 100 * 1024))
    await stage.run(rec(1, b"a-2"))

    cut, parked = stage.dlq()
    assert cut.header(h.DLQ_CUT) is not None
    assert parked.header(h.DLQ_PARKED_BEHIND) == cut.header(h.DLQ_ID)
    assert stage.out() == []


async def test_a_key_no_person_key_could_be_parks_nobody_and_stops_nothing() -> None:
    stage = Stage()
    stage.sink.limits = {"parking": 2000}
    huge = b"p" * 5000
    await stage.run(rec(0, b"bad-1", person=huge), rec(1, b"a-2", person=huge))

    (entry,) = stage.dlq()
    assert entry.header(h.DLQ_REASON) == "schema_violation"
    assert stage.out() == [b"a-2"]
    assert len(stage.book) == 0


def test_the_book_names_everyone_blocked_in_any_stage() -> None:
    book = ParkingBook()

    def state(group: str, person: str, blocked_by: str | None) -> InboundRecord:
        value = json.dumps({"blocked_by": blocked_by}).encode() if blocked_by else b""
        return InboundRecord(Position("parking", 0, 0), parking_key(group, person), value)

    book.apply_records([state("g.nav", "pk-a", "e1"), state("g.health", "pk-b", "e2")])
    assert book.blocked_people() == {"pk-a", "pk-b"}
    book.apply_records([state("g.nav", "pk-a", None)])
    assert book.blocked_people() == {"pk-b"}


# --- forged steering: a source writes the input topic and can compute dead-letter ids ---------


async def test_a_forged_replay_of_the_blocker_is_parked_and_on_record() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"))
    blocker = stage.dlq()[0]
    forged = replay_of(blocker, 2, value=b"a-forged", signer=None)
    (outcome,) = await stage.runner.run_batch([forged])
    assert stage.out() == [], "the person stays blocked"
    assert stage.dlq()[-1].header(h.DLQ_REASON) == "parked"
    assert outcome.refused_headers == (h.REPLAY_OF, h.REPLAY_GROUP)
    assert not any(k.startswith(h.REPLAY_PREFIX) for k, _ in stage.dlq()[-1].headers)


async def test_a_forged_release_releases_no_one() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    (blocker,) = stage.dlq()
    outcomes = await stage.runner.run_batch([release_of(blocker, 1, signer=None), rec(2, b"a-2")])
    assert stage.out() == []
    assert [o.failure.error.reason for o in outcomes if o.failure] == [Reason.PARKED] * 2
    assert outcomes[0].refused_headers == (h.CONTROL, h.REPLAY_OF, h.REPLAY_GROUP)


async def test_a_seal_of_another_key_or_over_another_value_counts_for_nothing() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    (blocker,) = stage.dlq()
    stranger = Signer(Ed25519PrivateKey.generate())
    sealed = replay_of(blocker, 1, value=b"fixed-1")
    moved = InboundRecord(sealed.position, sealed.key, b"a-other", sealed.headers)
    await stage.run(release_of(blocker, 2, signer=stranger), moved)
    assert stage.out() == []
    assert stage.book.get(GROUP, "pk-a") == blocker.header(h.DLQ_ID)


async def test_a_forged_group_does_not_make_a_stage_skip_the_input() -> None:
    stage = Stage()
    forged = rec(0, b"a-1", **{h.REPLAY_GROUP: "other.stage", h.REPLAY_OF: "x"})
    (outcome,) = await stage.runner.run_batch([forged])
    assert stage.out() == [b"a-1"]
    assert outcome.refused_headers == (h.REPLAY_GROUP, h.REPLAY_OF)


async def test_hub_headers_a_source_sends_are_removed_before_the_stage_sees_them() -> None:
    stage = Stage()
    forged = rec(0, b"bad-1", **{h.EVENT_ID: "0" * 36, h.DLQ_PARKED_BEHIND: "x", "hub-x": "y"})
    (outcome,) = await stage.runner.run_batch([forged])
    assert outcome.refused_headers == (h.EVENT_ID, h.DLQ_PARKED_BEHIND, "hub-x")
    assert not any(k.startswith(h.HUB_PREFIX) for k, _ in outcome.record.headers)
    (entry,) = stage.dlq()
    assert entry.header(h.DLQ_PARKED_BEHIND) is None
    assert entry.header(h.DLQ_REASON) == "schema_violation"


async def test_a_sealed_replay_keeps_its_headers_and_is_no_refusal() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"))
    (blocker,) = stage.dlq()
    (outcome,) = await stage.runner.run_batch([replay_of(blocker, 1, value=b"fixed-1")])
    assert outcome.refused_headers == ()
    assert outcome.record.header(h.REPLAY_OF) == blocker.header(h.DLQ_ID)
    assert stage.out() == [b"fixed-1"]


async def test_a_stage_of_several_topics_parks_a_person_on_one_topic_only() -> None:
    # The receipts stage: each recipient writes its own topic. NAV's bad receipt about a person
    # holds back NAV's later ones about them, never the municipality's.
    stage = Stage(per_topic=True)

    def on(topic: str, offset: int, value: bytes) -> InboundRecord:
        return InboundRecord(Position(topic, 0, offset), b"pk-a", value)

    await stage.run(on("receipts.nav", 0, b"bad-1"), on("receipts.municipality", 0, b"m-1"))
    await stage.run(on("receipts.nav", 1, b"n-2"), on("receipts.municipality", 1, b"m-2"))

    assert stage.out() == [b"m-1", b"m-2"]
    blocker, parked = stage.dlq()
    assert parked.header(h.DLQ_PARKED_BEHIND) == blocker.header(h.DLQ_ID)
    assert parked.value == b"n-2"
    assert stage.book.blocked_people() == {"pk-a"}


def _state(person: str, blocked_by: str | None, at: int | None) -> InboundRecord:
    state = ParkingState(GROUP, person, blocked_by, at, since=NOW.isoformat())
    out = state_record(state, "parking")
    return InboundRecord(Position("parking", 0, 0), out.key, out.value or b"")


def test_a_late_older_state_undoes_nothing_and_the_newest_is_noted_to_be_written_again() -> None:
    # A stalled old owner flushes what it decided at offsets 5 and 3 after the new owner's
    # decisions at 9 and 7 are on the topic.
    book = ParkingBook()
    book.apply_records([_state("pk-a", "e1", 5), _state("pk-a", None, 9), _state("pk-a", "e1", 5)])
    book.apply_records([_state("pk-b", "e2", 7), _state("pk-b", None, 3)])

    assert book.get(GROUP, "pk-a") is None, "released at 9 stays released"
    assert book.get(GROUP, "pk-b") == "e2", "blocked at 7 stays blocked"
    rewrite = book.take_overwritten()
    assert [(s.person, s.blocked_by, s.at) for s in rewrite] == [
        ("pk-a", None, 9),
        ("pk-b", "e2", 7),
    ]
    assert book.take_overwritten() == []
    # Written again and read back: nothing more to do.
    book.apply_records([_state("pk-a", None, 9)])
    assert book.take_overwritten() == []


def test_a_state_decided_later_replaces_one_decided_earlier() -> None:
    book = ParkingBook()
    book.apply_records([_state("pk-a", "e1", 5), _state("pk-a", None, 6), _state("pk-a", "e3", 8)])
    assert book.get(GROUP, "pk-a") == "e3"
    assert book.take_overwritten() == []


def test_states_written_before_they_named_their_offset_are_read_as_before() -> None:
    book = ParkingBook()
    legacy = json.dumps({"group": GROUP, "blocked_by": "e1", "since": NOW.isoformat()}).encode()
    key = parking_key(GROUP, "pk-a")
    book.apply_records([InboundRecord(Position("parking", 0, 0), key, legacy)])
    assert book.get(GROUP, "pk-a") == "e1"
    book.apply_records([InboundRecord(Position("parking", 0, 1), key, b"")])  # a tombstone
    assert book.get(GROUP, "pk-a") is None
    # In a rolling upgrade: blocked at 7 by a new hub, released by an old one's tombstone. A
    # late state from before 7 must not bring the block at 7 back.
    book.apply_records(
        [
            _state("pk-b", "e2", 7),
            InboundRecord(Position("parking", 0, 2), parking_key(GROUP, "pk-b"), b""),
        ]
    )
    book.apply_records([_state("pk-b", "e1", 4)])
    assert book.take_overwritten() == []


async def test_a_release_is_a_state_record_naming_the_input_it_was_decided_at() -> None:
    stage = Stage()
    await stage.run(rec(0, b"bad-1"), rec(1, b"a-2"))
    (blocker, parked) = stage.dlq()
    await stage.run(replay_of(blocker, 2, value=b"ok-1"), replay_of(parked, 3))

    states = [json.loads(r.value or b"") for r in stage.sink.topics["parking"]]
    assert [(s["blocked_by"], s["at"]) for s in states] == [
        (blocker.header(h.DLQ_ID), 0),
        (None, 2),
    ]
    await stage.run()  # the next batch reads the state back first
    assert stage.book.get(GROUP, "pk-a") is None
