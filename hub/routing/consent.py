"""Each person's consent as it stands: what every routing decision asks, not the event.

Consent is given and withdrawn (in BRIK, through the correctional case system), may expire, and
a decision to share uses the consent in force when it is made. A release that carries consent
counts as consent given at the time the release was registered.

Given and withdrawn are not symmetric, on purpose:
- A **withdrawal** counts for every decision made once the hub has read it, whatever the
  decision is about: no stage that lags behind shares what the person has taken back.
- A **consent given** counts for events the source registered after it, and for every event an
  operator replays (a replay is a new decision, made with the consent as it stands). So an
  event consumed again after a crash, or published again by the ingest stage after one, is
  decided as it was the first time: not shared now because a later event gave consent meanwhile
  (which would reach the recipient after what followed it, out of order).

Where it lives, and why: a compacted Kafka topic (`hub.consent.v1`), keyed by the person key,
one `ConsentState` per person with each recipient's grants as registered. The recipient stages
keep it, like the delivery index: a stage that meets a consent event (or a release carrying
consent) in its own input applies it before it decides anything later for that person, and
the new state is written as an output of the same batch, once for every stage of the one pass
(`hub.recipients.fanout.ConsentWrites`). Every stage follows the topic
(`TopicFollower`), so a withdrawal one stage has read is in force for all. Grants are ordered by
the time the source registered them, so merging is commutative: a stage that reads an older
consent again never undoes a newer one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from hub.pipeline.records import InboundRecord, OutboundRecord, text_headers
from schemas.events import (
    CanonicalEvent,
    ConsentGiven,
    ConsentRecipient,
    ConsentWithdrawn,
    ReleaseCompleted,
    ReleasePlanned,
)

__all__ = [
    "ConsentBook",
    "ConsentGrant",
    "ConsentState",
    "StagedConsent",
    "consent_record",
    "grants_of",
    "withdrawn_from",
]

_CONTENT_TYPE: Final = "application/json"


class ConsentGrant(BaseModel):
    """One recipient's consent for one person, as last registered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: ConsentRecipient
    given: bool
    validuntil: dt.date | None = None
    # When the source registered it, and the event: what orders grants for one recipient.
    at: AwareDatetime
    eventid: str

    def newer_than(self, other: ConsentGrant) -> bool:
        return (self.at, self.eventid) > (other.at, other.eventid)

    def holds_on(self, day: dt.date) -> bool:
        return self.given and (self.validuntil is None or day <= self.validuntil)


class ConsentState(BaseModel):
    """A person's consent: per recipient, the grants registered (few: consent changes rarely)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    grants: tuple[ConsentGrant, ...] = ()

    def in_force(self, day: dt.date, registered_by: dt.datetime | None = None) -> frozenset[str]:
        """The recipients (`ConsentRecipient` values) the person consents to on `day`, for a
        decision about an event registered at `registered_by` (None: as it stands, every grant
        counted). Consent registered after it does not count; a withdrawal always does."""
        latest: dict[ConsentRecipient, ConsentGrant] = {}
        for grant in self.grants:
            if grant.given and registered_by is not None and grant.at > registered_by:
                continue
            held = latest.get(grant.recipient)
            if held is None or grant.newer_than(held):
                latest[grant.recipient] = grant
        return frozenset(g.recipient.value for g in latest.values() if g.holds_on(day))

    def merged(self, grants: Iterable[ConsentGrant]) -> ConsentState:
        """This state with `grants` added; a grant already held (same event) is not repeated."""
        held = {(g.recipient, g.eventid): g for g in self.grants}
        for grant in grants:
            held.setdefault((grant.recipient, grant.eventid), grant)
        ordered = tuple(sorted(held.values(), key=lambda g: (g.recipient.value, g.at, g.eventid)))
        return self.model_copy(update={"grants": ordered})


def grants_of(event: CanonicalEvent) -> list[ConsentGrant]:
    """What `event` says about consent: a consent event, or a release that carries consent."""
    if isinstance(event, ConsentGiven | ConsentWithdrawn):
        consent, given = event.data.consent, isinstance(event, ConsentGiven)
        return [
            ConsentGrant(
                recipient=r,
                given=given,
                validuntil=consent.valid_until,
                at=event.time,
                eventid=event.id,
            )
            for r in consent.recipients
        ]
    if isinstance(event, ReleasePlanned | ReleaseCompleted):
        return [
            ConsentGrant(recipient=r, given=True, at=event.time, eventid=event.id)
            for r in event.data.release.consent_recipients
        ]
    return []


def consent_record(state: ConsentState, topic: str) -> OutboundRecord:
    return OutboundRecord(
        topic=topic,
        key=state.subject.encode("ascii"),
        value=state.model_dump_json().encode("utf-8"),
        headers=text_headers([("content-type", _CONTENT_TYPE)]),
    )


class ConsentBook:
    """The view of the consent topic, as far as read: one state per person."""

    def __init__(self) -> None:
        self._states: dict[str, ConsentState] = {}
        # Per person, every grant read from the topic so far (recipient, event): a state read
        # that lacks one was written after the one that had it (`take_overwritten`).
        self._read: dict[str, frozenset[tuple[str, str]]] = {}
        self._overwritten: set[str] = set()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, subject: str) -> ConsentState:
        return self._states.get(subject) or ConsentState(subject=subject)

    def put(self, state: ConsentState) -> None:
        self._states[state.subject] = self.get(state.subject).merged(state.grants)

    def apply_records(self, records: Iterable[InboundRecord]) -> int:
        """States read from the topic; returns how many were taken."""
        taken = 0
        for record in records:
            try:
                state = ConsentState.model_validate_json(record.value)
            except ValidationError:
                continue  # not ours to fix here; the topic is written by the hub alone
            self._note(state)
            self.put(state)
            taken += 1
        return taken

    def take_overwritten(self) -> list[ConsentState]:
        """Every person whose state on the topic lost grants it had (a stalled old owner wrote
        an older state after a newer one) since the last call: the state this book holds, to
        be written again so that the compacted topic keeps every grant, a withdrawal above all."""
        found = [self.get(subject) for subject in sorted(self._overwritten)]
        self._overwritten.clear()
        return found

    def note_overwritten(self, subjects: Iterable[str]) -> None:
        """Note these again (their writing failed)."""
        self._overwritten.update(subjects)

    def _note(self, state: ConsentState) -> None:
        grants = frozenset((g.recipient.value, g.eventid) for g in state.grants)
        before = self._read.get(state.subject, frozenset())
        if grants >= before:
            self._overwritten.discard(state.subject)
        else:
            self._overwritten.add(state.subject)
        self._read[state.subject] = before | grants


class StagedConsent:
    """One stage's window on the book: its own writes of the batch under way on top."""

    def __init__(self, book: ConsentBook, topic: str) -> None:
        self.book = book
        self.topic = topic
        self._overlay: dict[str, ConsentState] = {}

    def get(self, subject: str) -> ConsentState:
        state = self.book.get(subject)
        staged = self._overlay.get(subject)
        return state if staged is None else state.merged(staged.grants)

    def apply(self, event: CanonicalEvent) -> OutboundRecord | None:
        """Stage what `event` says about consent; the record to write when it changed anything."""
        grants = grants_of(event)
        if not grants:
            return None
        before = self.get(event.subject)
        after = before.merged(grants)
        if after == before:
            return None
        self._overlay[event.subject] = after
        return consent_record(after, self.topic)

    def in_force(
        self, subject: str, day: dt.date, registered_by: dt.datetime | None = None
    ) -> frozenset[str]:
        return self.get(subject).in_force(day, registered_by)

    def commit(self) -> None:
        for state in self._overlay.values():
            self.book.put(state)
        self._overlay.clear()

    def rollback(self) -> None:
        self._overlay.clear()


def withdrawn_from(event: CanonicalEvent) -> frozenset[str]:
    """For a withdrawal: the recipients (`ConsentRecipient` values) it withdraws consent from."""
    if isinstance(event, ConsentWithdrawn):
        return frozenset(r.value for r in event.data.consent.recipients)
    return frozenset()
