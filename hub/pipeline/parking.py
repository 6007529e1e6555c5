"""Per-person order in a stage: when one input of a person is dead-lettered, that person's later
inputs to the same stage are held back ("parked") until the failed one is replayed or discarded.

The state is one entry per person and consumer group — `group|person key` → the id of the
dead-letter entry that blocks them, or none once released — kept on a compacted topic. Only
the consumer that owns the person's input partition changes it, in the order of that partition,
and the change is acknowledged with the batch before its offsets are committed; so whoever owns
the partition next reads the state to its end and continues exactly where the last owner
committed.

A replay puts the blocking entry and everything parked behind it back on the input topic as one
contiguous run (see `hub.operations.replay`). The run is processed in partition order: the
blocker releases the person when it succeeds, the parked ones follow in their original order,
and anything the person sent meanwhile comes after them. If the blocker fails again, it blocks
again under its new entry id and the ones behind it are parked again.

Each state record names the input offset it was decided at (`at`), and a release is a record
too, not a tombstone: one key's inputs all come from one partition, so `at` orders its states
even across owners. A partition's old owner that stalls past its session and then flushes its
sends would otherwise put an older state last on the compacted topic (block a person again,
or release one whose blocker is still a dead letter). The book keeps the state with the highest
`at`, notes a key whose older state was read after it, and `OverwriteRepair` writes the newest
state again (`hub.recipients.overwrites`).

A stage that reads several topics (the receipts stage reads each recipient's) keeps order per
topic and person (`per_topic`): one recipient's failed receipt about a person holds back that
recipient's later receipts about them, never another recipient's. A recipient cannot hold up
another agency's receipts by sending bad ones of its own.

Replay and control headers count only under the hub's seal (`hub.pipeline.control`): the
runner screens every input first, and a forged `hub-replay-of` or `hub-control` is an input
like any other, parked if its person is blocked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from hub.pipeline.control import Steering
from hub.pipeline.records import InboundRecord, OutboundRecord
from schemas.errors import PermanentError, Reason

__all__ = [
    "Decision",
    "Parked",
    "Parking",
    "ParkingBook",
    "ParkingState",
    "Verdict",
    "parking_key",
    "parse_state_record",
    "state_record",
]

RELEASE = "release"
_LONGEST_PERSON_KEY = 1024


class Verdict(Enum):
    PROCESS = "process"
    PARK = "park"
    RELEASE = "release"  # a control record for this stage: let the person through
    IGNORE = "ignore"  # a replay or control record meant for another stage on the same topic


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    blocked_by: str | None = None


class Parked(PermanentError):
    """Not a fault of this input: an earlier input of the same person failed."""

    reason = Reason.PARKED

    def __init__(self, blocked_by: str) -> None:
        super().__init__(f"held back behind dead-letter entry {blocked_by}")
        self.blocked_by = blocked_by


def parking_key(group: str, person: str) -> bytes:
    return f"{group}|{person}".encode()


@dataclass(frozen=True, slots=True)
class ParkingState:
    """Whether `person` is held back in `group`, as decided at input offset `at`."""

    group: str
    person: str
    # The dead-letter entry that blocks them; None: released.
    blocked_by: str | None
    # The offset of the input whose processing decided it; None in a record written before
    # states named it (a tombstone was a release then): such a state orders against nothing.
    at: int | None
    since: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.person)


def parse_state_record(key: bytes | None, value: bytes | None) -> ParkingState:
    group, _, person = (key or b"").decode("utf-8", errors="replace").partition("|")
    body = json.loads(value) if value else {}
    at = body.get("at")
    return ParkingState(
        group,
        person,
        body.get("blocked_by"),
        at if isinstance(at, int) else None,
        body.get("since"),
    )


def state_record(state: ParkingState, topic: str) -> OutboundRecord:
    value = {"group": state.group, "blocked_by": state.blocked_by, "at": state.at}
    if state.since is not None:
        value["since"] = state.since
    body = json.dumps(value, sort_keys=True).encode()
    return OutboundRecord(topic, parking_key(state.group, state.person), body)


class ParkingBook:
    """Who is blocked in which group, as far as the state topic has been read.

    Fed by a `hub.kafka.follow_index.TopicFollower`; a stage catches up with it before each
    batch, so it sees every state record acknowledged before, its own and other processes'.
    """

    def __init__(self) -> None:
        self._blocked: dict[tuple[str, str], str] = {}
        # The newest state read of every key whose states name their offset.
        self._newest: dict[tuple[str, str], ParkingState] = {}
        self._overwritten: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self._blocked)

    def get(self, group: str, person: str) -> str | None:
        return self._blocked.get((group, person))

    def blocked_people(self) -> set[str]:
        """The person keys blocked behind a dead-letter entry in any stage."""
        # A stage that parks per topic names its people `topic|person key`.
        return {person.rpartition("|")[2] for (_, person) in self._blocked}

    def blockers(self) -> dict[str, int]:
        """Every dead-letter entry that blocks someone, and how many people (over all groups)."""
        counts: dict[str, int] = {}
        for entry in self._blocked.values():
            counts[entry] = counts.get(entry, 0) + 1
        return counts

    def blocked_in(self, group: str) -> dict[str, str]:
        return {person: entry for (g, person), entry in self._blocked.items() if g == group}

    def apply_records(self, records: Iterable[InboundRecord]) -> int:
        for record in records:
            self._apply(parse_state_record(record.key, record.value or None))
        return len(self._blocked)

    def take_overwritten(self) -> list[ParkingState]:
        """The newest state of every key an older state followed on the topic (a stalled old
        owner's late write) since the last call, to be written again."""
        found = [self._newest[key] for key in sorted(self._overwritten)]
        self._overwritten.clear()
        return found

    def note_overwritten(self, keys: Iterable[str]) -> None:
        """Note these again (their writing failed); keys as `parking_key` names them."""
        for key in keys:
            group, _, person = key.partition("|")
            if (group, person) in self._newest:
                self._overwritten.add((group, person))

    def _apply(self, state: ParkingState) -> None:
        newest = self._newest.get(state.key)
        if state.at is not None:
            if newest is not None and newest.at is not None and state.at < newest.at:
                # Decided before the state already read: a late write, not a change.
                self._overwritten.add(state.key)
                return
            self._newest[state.key] = state
            self._overwritten.discard(state.key)
        else:
            # Written by a hub from before states named their offset (a rolling upgrade): the
            # newest known is no longer known, and nothing is written again on its strength.
            self._newest.pop(state.key, None)
            self._overwritten.discard(state.key)
        if state.blocked_by is None:
            self._blocked.pop(state.key, None)
        else:
            self._blocked[state.key] = state.blocked_by


class Parking:
    """The parking decisions of one consumer group.

    Changes made while a batch runs live in an overlay until the batch's state records are
    acknowledged and read back; a batch that fails leaves nothing behind, so its redelivery
    decides, and writes, again.
    """

    def __init__(
        self,
        *,
        group: str,
        topic: str,
        book: ParkingBook | None = None,
        catch_up: Callable[[], Awaitable[None]] | None = None,
        per_topic: bool = False,
    ) -> None:
        self.group = group
        self.topic = topic
        self._per_topic = per_topic
        self._book = book if book is not None else ParkingBook()
        self._catch_up = catch_up
        self._overlay: dict[str, str | None] = {}

    async def begin_batch(self) -> None:
        if self._catch_up is not None:
            await self._catch_up()
        self._overlay.clear()

    def blocker(self, person: str) -> str | None:
        if person in self._overlay:
            return self._overlay[person]
        return self._book.get(self.group, person)

    def decide(
        self,
        record: InboundRecord,
        own_entry_id: Callable[[], str],
        steering: Steering | None = None,
    ) -> Decision:
        """`steering`: the record's replay or control headers, verified under the hub's seal
        (`hub.pipeline.control`). Unsealed ones steer nothing: the record is an input like any.
        `own_entry_id`: the id the record's dead-letter entry would have, asked only when its
        person is blocked (it is a hash, and most people are not)."""
        if steering is not None and steering.group is not None and steering.group != self.group:
            return Decision(Verdict.IGNORE)
        if steering is not None and steering.control is not None:
            return Decision(Verdict.RELEASE if steering.control == RELEASE else Verdict.IGNORE)
        person = self._person(record)
        blocker = self.blocker(person) if person else None
        replay_of = steering.replay_of if steering is not None else None
        if blocker is None or blocker in (own_entry_id(), replay_of):
            # Not blocked, or this is the blocking input itself (replayed, or redelivered).
            return Decision(Verdict.PROCESS)
        return Decision(Verdict.PARK, blocker)

    def succeeded(self, record: InboundRecord) -> list[OutboundRecord]:
        """State writes after `record` went through: the person is free if it was their blocker."""
        person = self._person(record)
        if person and self.blocker(person) is not None:
            return [self._release(person, record)]
        return []

    def failed(self, record: InboundRecord, entry_id: str, now: datetime) -> list[OutboundRecord]:
        """State writes after `record` was dead-lettered as `entry_id`: its person is blocked."""
        person = self._person(record)
        if not person or self.blocker(person) == entry_id:
            return []
        self._overlay[person] = entry_id
        state = ParkingState(
            self.group, person, entry_id, record.position.offset, since=now.isoformat()
        )
        return [state_record(state, self.topic)]

    def released(self, record: InboundRecord, steering: Steering) -> list[OutboundRecord]:
        """A sealed control record asked to let the person through (their blocker was
        discarded)."""
        person = self._person(record)
        blocker = self.blocker(person) if person else None
        if person and blocker is not None and blocker == steering.replay_of:
            return [self._release(person, record)]
        return []

    def _person(self, record: InboundRecord) -> str | None:
        """Whose order `record` is kept in: its key, the person key (with `per_topic`, behind
        the topic it came from). None: nothing to keep in order."""
        # A key far longer than any person key is no person's: keyed state for it might be
        # larger than the state topic takes, and the failure it would stand behind could never
        # be written.
        if not record.key or len(record.key) > _LONGEST_PERSON_KEY:
            return None
        person = record.key.decode("utf-8", errors="replace")
        return f"{record.position.topic}|{person}" if self._per_topic else person

    def _release(self, person: str, record: InboundRecord) -> OutboundRecord:
        # A record, not a tombstone: a release must name its offset to order against a late
        # write of the blocking state.
        self._overlay[person] = None
        state = ParkingState(self.group, person, None, record.position.offset)
        return state_record(state, self.topic)
