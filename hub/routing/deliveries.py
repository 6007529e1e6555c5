"""Which recipient got which message: the state corrections, cancellations and receipts need.

Where it lives, and why: a compacted Kafka topic (`hub.deliveries.v1`), keyed by recipient
message id, one `DeliveryEntry` per message, rewritten when it changes (plan closed, receipt
come, alert raised). A recipient stage writes its entries as outputs of the same batch as the
messages, so they are acknowledged before the input's offset is committed, exactly like the
messages: after a crash, state and messages agree. The topic survives restarts and is shared by
every hub process; each process keeps an in-memory `DeliveryIndex` of it, fed by a follower
(`hub.kafka.deliveries`), and catches up to the topic's end before each batch, so a partition
that moves to another process finds the state the previous owner wrote. (The audit projection
was the alternative: it is per process, lags behind the trail, and is derived data that
`hub audit rebuild` may delete; the hub must not route by it.)

Within a batch, a stage sees its own writes at once through an overlay, which becomes part of
the index only when the batch's outputs are acknowledged, and is dropped when they are not.
Every entry carries a revision, so a follower reading an older version back never undoes a
newer one.

A batch consumed again (its state was acknowledged, its offsets not committed) must decide what
it decided the first time, and must never write an entry older than the one on the topic: the
topic is compacted, so the last record per key is all a restarted hub will find. Hence an
entry records which event closed its plan (`closedby`), so that event, seen again, finds the
plans it superseded then (`StagedIndex.closed_by`) rather than none; and a step writes no entry
for a message the index already holds (`StagedIndex.get` first).

The index holds an entry for every message ever sent, so it lives in a private temporary
SQLite database (an empty file name: on disk, deleted when closed, a bounded page cache in
memory) rather than in Python objects: the hub's memory stays flat however long it runs.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from hub.pipeline.records import InboundRecord, OutboundRecord, text_headers
from schemas.recipients import Action, ReceiptStatus

__all__ = [
    "INFORMING",
    "DeliveryEntry",
    "DeliveryIndex",
    "Receipted",
    "StagedIndex",
    "entry_record",
    "plan_key",
]

_PLAN_FAMILIES = {"release", "transfer"}
# Messages that told a recipient something it may act on (a withdrawal or cancellation did not).
INFORMING = frozenset({Action.NOTICE, Action.CORRECTION})
_CONTENT_TYPE = "application/json"


class Receipted(BaseModel):
    # As in `DeliveryEntry`: what a later version adds is kept.
    model_config = ConfigDict(frozen=True, extra="allow")

    required: bool = False
    due: AwareDatetime | None = None
    status: ReceiptStatus | None = None


class DeliveryEntry(BaseModel):
    """One message sent to one recipient, and what has become of it since."""

    # Fields a later version of the hub adds are read and kept, not refused: in a rolling
    # upgrade the older processes still read, change and write back the newer ones' entries,
    # and what they do not know must survive that (`changed` keeps it). The hub's own code
    # cannot misspell a field: mypy's pydantic plugin forbids unknown names at construction.
    model_config = ConfigDict(frozen=True, extra="allow")

    messageid: str
    rev: int = 0
    kind: str
    recipient: str
    topic: str
    subject: str
    canonicalid: str
    eventtype: str
    action: Action
    rule: str
    legalbasis: str
    deliveredat: AwareDatetime
    # For a planned release or transfer: `<family>|<case number>`; None for anything else.
    plan: str | None = None
    # Whether a correction or cancellation of its plan must still reach this recipient.
    open: bool = False
    # The canonical event that closed this entry's plan (a correction, cancellation, completion).
    closedby: str | None = None
    # For a planned event: the day planned (a release's date), what gap alerts measure to.
    planneddate: dt.date | None = None
    receipt: Receipted = Receipted()
    alerts: tuple[str, ...] = ()
    # Shared under consent that has since been withdrawn, and the recipient was told so.
    consentwithdrawn: bool = False
    # The canonical event (a withdrawal of consent) that set `consentwithdrawn`: consumed again,
    # that event tells the recipient again, in case its message was lost with the batch while
    # this entry was written. None in entries written before the hub recorded it.
    withdrawnby: str | None = None
    # The alerts that were open when a later event closed the plan, and that it resolved: a
    # pass of that event consumed again resolves them again, in case the resolutions were lost
    # with its batch while the closing landed. Empty in entries closed before it was recorded.
    resolvedalerts: tuple[str, ...] = ()
    # When the source registered the event this message derives from: a withdrawal of consent
    # reaches what was shared for events registered before it, never what a later consent
    # allowed. None in entries written before the hub recorded it (counted as before).
    eventtime: AwareDatetime | None = None

    def changed(self, **updates: object) -> DeliveryEntry:
        return self.model_copy(update={**updates, "rev": self.rev + 1})


def plan_key(event_type: str, case_number: str | None) -> str | None:
    """The plan an event of `event_type` belongs to, for releases and transfers."""
    family = event_type.split(".")[2] if event_type.count(".") >= 3 else ""
    if family not in _PLAN_FAMILIES or not case_number:
        return None
    return f"{family}|{case_number}"


def entry_record(entry: DeliveryEntry, topic: str) -> OutboundRecord:
    return OutboundRecord(
        topic=topic,
        key=entry.messageid.encode("ascii"),
        value=entry.model_dump_json().encode("utf-8"),
        headers=text_headers([("content-type", _CONTENT_TYPE)]),
    )


_SCHEMA: Final = """
CREATE TABLE entries (
    messageid TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    canonicalid TEXT NOT NULL,
    open INTEGER NOT NULL,
    due REAL,  -- set while a required receipt is missing and not alerted: the overdue check
    closedby TEXT,
    -- alerted as `receipt_overdue`, and the receipt has still not come
    unanswered INTEGER NOT NULL,
    json TEXT NOT NULL,
    -- The highest revision of the entry read from the topic so far (-1: none read yet); an
    -- older one read after it was written after it, and compaction would keep that one.
    toprev INTEGER NOT NULL DEFAULT -1
);
CREATE INDEX entries_open ON entries (kind, subject) WHERE open;
CREATE INDEX entries_subject ON entries (kind, subject);
-- Open plans about one person, of every recipient kind: the release alerts' question.
CREATE INDEX entries_open_subject ON entries (subject) WHERE open;
-- What a recipient kind received about one canonical event: whom a correction must reach.
CREATE INDEX entries_event ON entries (kind, canonicalid);
CREATE INDEX entries_due ON entries (due) WHERE due IS NOT NULL;
CREATE INDEX entries_closedby ON entries (closedby, kind) WHERE closedby IS NOT NULL;
CREATE INDEX entries_unanswered ON entries (unanswered) WHERE unanswered;
"""

_OVERDUE_UNANSWERED: Final = "SELECT count(*) FROM entries WHERE unanswered"

# Take the entry unless the index has a later revision of it (an older one read back).
_PUT: Final = """
INSERT INTO entries
    (messageid, rev, kind, subject, canonicalid, open, due, closedby, unanswered, json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (messageid) DO UPDATE SET
    rev = excluded.rev, kind = excluded.kind, subject = excluded.subject,
    canonicalid = excluded.canonicalid, open = excluded.open, due = excluded.due,
    closedby = excluded.closedby, unanswered = excluded.unanswered,
    json = excluded.json
WHERE excluded.rev >= entries.rev
"""

_TOPREVS: Final = "SELECT messageid, toprev FROM entries WHERE messageid IN ({})"
_SET_TOPREV: Final = "UPDATE entries SET toprev = ? WHERE messageid = ?"
# Bound parameters a statement may carry in SQLite builds before 3.32.
_MAX_PARAMS: Final = 999

# Pages kept in memory (KiB when negative); the rest is read back from the file when needed.
_CACHE_KIB: Final = 16 * 1024


class DeliveryIndex:
    """The view of the deliveries topic, as far as read, in a private temporary database."""

    def __init__(self) -> None:
        # "": SQLite's private temporary on-disk database. The index is rebuilt from the
        # compacted topic at every start, so it needs neither a journal nor durable writes.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.executescript(
            f"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            f" PRAGMA cache_size = -{_CACHE_KIB};" + _SCHEMA
        )
        self._overwritten: set[str] = set()

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM entries").fetchone()
        return int(count)

    def get(self, message_id: str) -> DeliveryEntry | None:
        row = self._db.execute(
            "SELECT json FROM entries WHERE messageid = ?", (message_id,)
        ).fetchone()
        return None if row is None else DeliveryEntry.model_validate_json(row[0])

    def put(self, entry: DeliveryEntry) -> bool:
        """Take `entry` unless the index has a later revision of it; True when taken."""
        return self.put_all([entry]) == 1

    def put_all(self, entries: Iterable[DeliveryEntry]) -> int:
        """`put` each of `entries` in one transaction; returns how many were taken."""
        return self._write([_row(entry) for entry in entries], {})

    def apply_records(self, records: Iterable[InboundRecord]) -> int:
        """Entries read from the topic; returns how many changed the index.

        Also notes each entry whose newest revision on the topic was followed by an older one
        (`take_overwritten`): a partition's old owner, stalled past its session and then
        flushing what it had in flight, writes such a revision after the new owner's."""
        entries = list(_entries_of(records))
        if not entries:
            return 0
        read = self._toprevs({e.messageid for e in entries})
        for entry in entries:
            before = read.get(entry.messageid, -1)
            if entry.rev < before:
                self._overwritten.add(entry.messageid)
            else:
                read[entry.messageid] = entry.rev
                self._overwritten.discard(entry.messageid)
        return self._write([_row(entry) for entry in entries], read)

    def take_overwritten(self) -> list[DeliveryEntry]:
        """The newest revision this index holds of every entry noted as overwritten on the
        topic by an older one since the last call: what must be written again, so that the
        compacted topic's last record of each is its newest."""
        found = [self.get(message_id) for message_id in sorted(self._overwritten)]
        self._overwritten.clear()
        return [entry for entry in found if entry is not None]

    def note_overwritten(self, message_ids: Iterable[str]) -> None:
        """Note these again (their rewriting failed)."""
        self._overwritten.update(message_ids)

    def _toprevs(self, message_ids: set[str]) -> dict[str, int]:
        ids, found = sorted(message_ids), dict[str, int]()
        for start in range(0, len(ids), _MAX_PARAMS):
            chunk = ids[start : start + _MAX_PARAMS]
            query = _TOPREVS.format(", ".join("?" * len(chunk)))
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def _write(self, rows: list[tuple[object, ...]], toprevs: dict[str, int]) -> int:
        if not rows:
            return 0
        self._db.execute("BEGIN")
        try:
            taken = self._db.executemany(_PUT, rows).rowcount
            if toprevs:
                self._db.executemany(_SET_TOPREV, [(rev, mid) for mid, rev in toprevs.items()])
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return taken

    def open_ids_about(self, kind: str, subject: str) -> set[str]:
        """The ids of `kind`'s entries about `subject` whose plans are still open."""
        rows = self._db.execute(
            "SELECT messageid FROM entries WHERE kind = ? AND subject = ? AND open",
            (kind, subject),
        )
        return {message_id for (message_id,) in rows}

    def closed_by(self, kind: str, canonical_id: str) -> list[DeliveryEntry]:
        """`kind`'s entries whose plans event `canonical_id` closed."""
        rows = self._db.execute(
            "SELECT json FROM entries WHERE closedby = ? AND kind = ?", (canonical_id, kind)
        )
        return [DeliveryEntry.model_validate_json(json) for (json,) in rows]

    def overdue_unanswered(self) -> int:
        """Entries alerted as `receipt_overdue` whose receipt has still not come."""
        (count,) = self._db.execute(_OVERDUE_UNANSWERED).fetchone()
        return int(count)

    def ids_about(self, kind: str, subject: str) -> set[str]:
        """The ids of every entry of `kind`'s recipients about `subject`."""
        rows = self._db.execute(
            "SELECT messageid FROM entries WHERE kind = ? AND subject = ?", (kind, subject)
        )
        return {message_id for (message_id,) in rows}

    def ids_about_event(self, kind: str, canonical_id: str) -> set[str]:
        """The ids of `kind`'s entries derived from canonical event `canonical_id`."""
        rows = self._db.execute(
            "SELECT messageid FROM entries WHERE kind = ? AND canonicalid = ?",
            (kind, canonical_id),
        )
        return {message_id for (message_id,) in rows}

    def open_releases(self, subject: str) -> list[DeliveryEntry]:
        """The open planned-release entries about `subject`, of any recipient kind."""
        rows = self._db.execute(
            "SELECT json FROM entries WHERE subject = ? AND open ORDER BY messageid", (subject,)
        )
        entries = [DeliveryEntry.model_validate_json(json) for (json,) in rows]
        return [e for e in entries if e.planneddate and (e.plan or "").startswith("release|")]

    def open_with_alert(self, kind: str) -> list[DeliveryEntry]:
        """Open entries that carry an alert of `kind`."""
        # The alerts live in the entry's JSON only; a LIKE narrows, the parse decides.
        rows = self._db.execute(
            "SELECT json FROM entries WHERE open AND json LIKE ?", (f'%"{kind}"%',)
        )
        entries = [DeliveryEntry.model_validate_json(json) for (json,) in rows]
        return [e for e in entries if kind in e.alerts]

    def awaiting_receipt(self, now: dt.datetime) -> list[DeliveryEntry]:
        """Entries whose receipt is overdue and not yet alerted."""
        rows = self._db.execute(
            "SELECT json FROM entries WHERE due <= ? ORDER BY due", (now.timestamp(),)
        )
        return [DeliveryEntry.model_validate_json(json) for (json,) in rows]


def _row(entry: DeliveryEntry) -> tuple[object, ...]:
    return (
        entry.messageid,
        entry.rev,
        entry.kind,
        entry.subject,
        entry.canonicalid,
        entry.open,
        _overdue_from(entry),
        entry.closedby,
        "receipt_overdue" in entry.alerts and entry.receipt.status is None,
        entry.model_dump_json(),
    )


def _as_written(entry: DeliveryEntry) -> tuple[bytes, bytes]:
    record = entry_record(entry, "")
    return record.key or b"", record.value or b""


def _overdue_from(entry: DeliveryEntry) -> float | None:
    """When a missing receipt becomes overdue, if it is still to be alerted."""
    receipt = entry.receipt
    if not receipt.required or receipt.status is not None or receipt.due is None:
        return None
    if "receipt_overdue" in entry.alerts:
        return None
    return receipt.due.timestamp()


def _entries_of(records: Iterable[InboundRecord]) -> Iterator[DeliveryEntry]:
    for record in records:
        try:
            yield DeliveryEntry.model_validate_json(record.value)
        except ValidationError:
            continue  # not ours to fix here; the topic is written by the hub alone


class StagedIndex:
    """One stage's window on the index: its own writes of the batch under way on top.

    Each stage has its own, so one stage's failed batch never drops another stage's state.
    """

    def __init__(self, index: DeliveryIndex) -> None:
        self.index = index
        self._overlay: dict[str, DeliveryEntry] = {}
        # The overlay's message ids by what a step asks per event: scanning the overlay for
        # each event made a batch quadratic in its size.
        self._by_subject: dict[tuple[str, str], set[str]] = {}
        self._by_event: dict[tuple[str, str], set[str]] = {}
        self._by_closer: dict[tuple[str, str], set[str]] = {}

    def get(self, message_id: str) -> DeliveryEntry | None:
        return self._overlay.get(message_id) or self.index.get(message_id)

    def stage(self, entry: DeliveryEntry) -> None:
        """Visible at once to this stage; part of the index only if `commit` follows."""
        self._overlay[entry.messageid] = entry
        kind, message_id = entry.kind, entry.messageid
        self._by_subject.setdefault((kind, entry.subject), set()).add(message_id)
        self._by_event.setdefault((kind, entry.canonicalid), set()).add(message_id)
        if entry.closedby is not None:
            self._by_closer.setdefault((kind, entry.closedby), set()).add(message_id)

    def commit(self, acknowledged: Iterable[OutboundRecord] | None = None) -> None:
        """Make the batch's writes part of the index: all of them, or with `acknowledged`
        only those whose records are among it, so the index never holds what the topic does
        not (an input dead-lettered because the broker refused an output leaves no state)."""
        entries = list(self._overlay.values())
        if acknowledged is not None:
            written = {(record.key, record.value) for record in acknowledged}
            entries = [e for e in entries if _as_written(e) in written]
        self.index.put_all(entries)
        self.rollback()

    def rollback(self) -> None:
        for staged in (self._overlay, self._by_subject, self._by_event, self._by_closer):
            staged.clear()

    def closed_by(self, kind: str, canonical_id: str) -> list[DeliveryEntry]:
        """The entries of `kind` whose plans event `canonical_id` closed, by message id."""
        ids = {e.messageid for e in self.index.closed_by(kind, canonical_id)}
        ids |= self._by_closer.get((kind, canonical_id), set())
        found = (self.get(message_id) for message_id in sorted(ids))
        return [e for e in found if e is not None and e.closedby == canonical_id]

    def about(self, kind: str, subject: str) -> Iterator[DeliveryEntry]:
        """Every entry of `kind`'s recipients about `subject`, open or not."""
        ids = self.index.ids_about(kind, subject) | self._by_subject.get((kind, subject), set())
        for message_id in sorted(ids):
            entry = self.get(message_id)
            if entry is not None:
                yield entry

    def told_of(self, kind: str, canonical_id: str) -> Iterator[DeliveryEntry]:
        """What `kind`'s recipients were told of canonical event `canonical_id`, open or not:
        whom its correction or cancellation must reach."""
        ids = self.index.ids_about_event(kind, canonical_id)
        ids |= self._by_event.get((kind, canonical_id), set())
        for message_id in sorted(ids):
            entry = self.get(message_id)
            if entry is not None and entry.action in INFORMING:
                yield entry

    def open_for(self, kind: str, subject: str) -> Iterator[DeliveryEntry]:
        """The entries of `kind`'s recipients about `subject` whose plans are still open."""
        # An id the index holds closed can only be open again through this batch's overlay.
        ids = self.index.open_ids_about(kind, subject)
        ids |= self._by_subject.get((kind, subject), set())
        for message_id in sorted(ids):
            entry = self.get(message_id)
            if entry is not None and entry.open:
                yield entry
