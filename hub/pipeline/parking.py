"""Per-person order in a stage: when one input of a person is dead-lettered, that person's later
inputs to the same stage are held back ("parked") until the failed one is replayed or discarded.

The state is one entry per blocked person and consumer group — `group|person key` → the id of
the dead-letter entry that blocks them — kept on a compacted topic. Only the consumer that owns
the person's input partition changes it, in the order of that partition, and the change is
acknowledged with the batch before its offsets are committed; so whoever owns the partition
next reads the state to its end and continues exactly where the last owner committed.

A replay puts the blocking entry and everything parked behind it back on the input topic as one
contiguous run (see `hub.operations.replay`). The run is processed in partition order: the
blocker releases the person when it succeeds, the parked ones follow in their original order,
and anything the person sent meanwhile comes after them. If the blocker fails again, it blocks
again under its new entry id and the ones behind it are parked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord
from schemas.errors import PermanentError, Reason

__all__ = ["Decision", "Parked", "Parking", "Verdict", "parking_key", "parse_state_record"]

RELEASE = "release"


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


def parse_state_record(key: bytes | None, value: bytes | None) -> tuple[str, str, str | None]:
    """(group, person key, blocking entry id or None when released) of a state record."""
    group, _, person = (key or b"").decode("utf-8", errors="replace").partition("|")
    blocked_by = json.loads(value)["blocked_by"] if value else None
    return group, person, blocked_by


class Parking:
    """The parking state of one consumer group, and the decisions it implies."""

    def __init__(self, *, group: str, topic: str, blocked: Mapping[str, str] | None = None) -> None:
        self.group = group
        self.topic = topic
        self.blocked: dict[str, str] = dict(blocked or {})

    def decide(self, record: InboundRecord, own_entry_id: str) -> Decision:
        target = record.header(h.REPLAY_GROUP)
        if target is not None and target != self.group:
            return Decision(Verdict.IGNORE)
        if record.header(h.CONTROL) is not None:
            return Decision(
                Verdict.RELEASE if record.header(h.CONTROL) == RELEASE else Verdict.IGNORE
            )
        person = _person(record)
        blocker = self.blocked.get(person) if person else None
        if blocker is None or blocker in (own_entry_id, record.header(h.REPLAY_OF)):
            # Not blocked, or this is the blocking input itself (replayed, or redelivered).
            return Decision(Verdict.PROCESS)
        return Decision(Verdict.PARK, blocker)

    def succeeded(self, record: InboundRecord) -> list[OutboundRecord]:
        """State writes after `record` went through: the person is free if it was their blocker."""
        person = _person(record)
        if person and person in self.blocked:
            return [self._release(person)]
        return []

    def failed(self, record: InboundRecord, entry_id: str, now: datetime) -> list[OutboundRecord]:
        """State writes after `record` was dead-lettered as `entry_id`: its person is blocked."""
        person = _person(record)
        if not person or self.blocked.get(person) == entry_id:
            return []
        self.blocked[person] = entry_id
        value = {"group": self.group, "blocked_by": entry_id, "since": now.isoformat()}
        return [self._write(person, json.dumps(value, sort_keys=True).encode())]

    def released(self, record: InboundRecord) -> list[OutboundRecord]:
        """A control record asked to let the person through (their blocker was discarded)."""
        person = _person(record)
        if person and self.blocked.get(person) == record.header(h.REPLAY_OF):
            return [self._release(person)]
        return []

    def _release(self, person: str) -> OutboundRecord:
        del self.blocked[person]
        return self._write(person, None)

    def _write(self, person: str, value: bytes | None) -> OutboundRecord:
        return OutboundRecord(self.topic, parking_key(self.group, person), value)


def _person(record: InboundRecord) -> str | None:
    # Every input of a stage is keyed by the person key (or has no key: nothing to keep in order).
    return record.key.decode("utf-8", errors="replace") if record.key else None
