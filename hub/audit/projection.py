"""The queryable projection of the trail: SQLite, a file under the hub's data folder.

It is derived data: `hub audit rebuild` makes it again from the topic at any time, and the
running hub keeps it current. Applying a record twice changes nothing: rows are keyed by the
audit record's deterministic id (the first occurrence is kept, a repeat after a crash is
ignored), and the next offset to read per partition is stored in the same transaction.

WAL mode, so the hub writes while an operator queries. A database another process holds
locked for longer than the busy timeout is a `TransientError` (`timeout`): try again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.pipeline.records import InboundRecord
from schemas.audit import AuditRecord, AuditStep, decode_record
from schemas.errors import Reason, TransientError

__all__ = ["Disclosure", "Projection", "TrailRow"]

# Raise with every change to the tables below. Indexes on columns most records leave empty
# are partial: each index written costs every record projected (a fifth of it, measured).
_SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id TEXT PRIMARY KEY,
    writer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time TEXT NOT NULL,
    step TEXT NOT NULL,
    stage TEXT NOT NULL,
    subject TEXT,
    message_id TEXT,
    event_type TEXT,
    correlation_id TEXT,
    source_event_id TEXT,
    input TEXT,
    output TEXT,
    reason TEXT,
    kid TEXT,
    entry_id TEXT,
    recipient TEXT,
    rule_id TEXT,
    legal_basis TEXT,
    delivered_id TEXT,
    redirected_from TEXT,
    receipt_status TEXT,
    operator TEXT,
    action TEXT,
    note TEXT,
    blocked_by TEXT,
    audit_partition INTEGER NOT NULL,
    audit_offset INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_message ON audit (message_id);
CREATE INDEX IF NOT EXISTS audit_delivered ON audit (delivered_id) WHERE delivered_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_source_event ON audit (source_event_id)
    WHERE source_event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_entry ON audit (entry_id) WHERE entry_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_input ON audit (input);
CREATE INDEX IF NOT EXISTS audit_disclosures ON audit (subject, time) WHERE step = 'delivered';
CREATE TABLE IF NOT EXISTS progress (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""
_COLUMNS = (
    *("id", "writer", "seq", "time", "step", "stage", "subject", "message_id", "event_type"),
    *("correlation_id", "source_event_id", "input", "output", "reason", "kid", "entry_id"),
    *("recipient", "rule_id", "legal_basis", "delivered_id", "redirected_from"),
    *("receipt_status", "operator", "action", "note", "blocked_by"),
    *("audit_partition", "audit_offset"),
)
_INSERT = (
    f"INSERT OR IGNORE INTO audit ({', '.join(_COLUMNS)}) "  # noqa: S608 - fixed column names; values are bound
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
_PROGRESS = (
    "INSERT INTO progress (topic, partition, next_offset) VALUES (?, ?, ?) "
    "ON CONFLICT (topic, partition) DO UPDATE SET "
    "next_offset = max(next_offset, excluded.next_offset)"
)


@dataclass(frozen=True, slots=True)
class TrailRow:
    """One step of a message's journey."""

    time: str
    step: str
    stage: str
    message_id: str | None
    input: str | None
    output: str | None
    reason: str | None
    recipient: str | None
    rule_id: str | None
    legal_basis: str | None
    delivered_id: str | None
    receipt_status: str | None
    entry_id: str | None
    event_type: str | None
    operator: str | None
    note: str | None
    blocked_by: str | None


@dataclass(frozen=True, slots=True)
class Disclosure:
    time: str
    recipient: str
    event_type: str | None
    rule_id: str | None
    legal_basis: str | None
    message_id: str | None
    redirected_from: str | None


class Projection:
    """Queries open a connection each; `apply`, which the running hub calls for every batch of
    the trail, keeps one until `close` (opening one cost a fifth of projecting a batch).

    A kept connection would go on writing to a file someone deleted or replaced (an operator
    starting the projection afresh): `apply` looks at the file first, and when it is no longer
    the one it holds, it lets go of it and raises, so that the hub follows the trail again from
    where the file now found stands (the start, for a new one)."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._kept: sqlite3.Connection | None = None
        # (device, inode) of the file the kept connection has open.
        self._kept_file: tuple[int, int] | None = None
        # `apply` is called from worker threads, one at a time, but not always the same one.
        self._kept_lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = self._open()
        try:
            yield db
        except sqlite3.OperationalError as exc:
            raise _translated(exc) from exc
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, timeout=self._busy_timeout_s, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _translated(exc) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            _ensure_schema(db)
        except sqlite3.Error as exc:
            db.close()
            raise _translated(exc) from exc
        return db

    def apply(self, records: Sequence[InboundRecord]) -> int:
        """Project stored audit records; returns how many were new. Unreadable ones are skipped
        (the verifier reports them); the progress moves past them all the same."""
        rows = [row for row in map(_row, records) if row is not None]
        with self._kept_lock:
            if self._kept is not None and self._file_id() != self._kept_file:
                self._close_kept()
                raise TransientError(
                    f"the audit projection {self.path} was deleted or replaced; "
                    "following the trail again from where the file found there stands",
                    reason=Reason.PROJECTION_REPLACED,
                )
            if self._kept is None:
                self._kept = self._open()
                self._kept_file = self._file_id()
            db = self._kept
            try:
                with db:
                    before = db.total_changes
                    db.executemany(_INSERT, rows)
                    added = db.total_changes - before
                    db.executemany(_PROGRESS, _progress(records))
            except sqlite3.Error as exc:
                # Opened afresh next time: the file may have been replaced or locked.
                self._close_kept()
                raise _translated(exc) from exc
        return added

    def close(self) -> None:
        with self._kept_lock:
            self._close_kept()

    def _close_kept(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None
            self._kept_file = None

    def _file_id(self) -> tuple[int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return (found.st_dev, found.st_ino)

    def next_offsets(self, topic: str) -> dict[int, int]:
        with self._connect() as db:
            cursor = db.execute(
                "SELECT partition, next_offset FROM progress WHERE topic = ?", (topic,)
            )
            return {int(p): int(o) for p, o in cursor}

    def reset(self) -> None:
        """Forget everything, before a rebuild from the topic."""
        with self._connect() as db, db:
            db.execute("DELETE FROM audit")
            db.execute("DELETE FROM progress")

    def count(self, step: AuditStep | None = None) -> int:
        with self._connect() as db:
            if step is None:
                return int(db.execute("SELECT count(*) FROM audit").fetchone()[0])
            query = "SELECT count(*) FROM audit WHERE step = ?"
            return int(db.execute(query, (step.value,)).fetchone()[0])

    def trail(self, message_id: str) -> list[TrailRow]:
        """Every step of the message known by `message_id` (its canonical id, source event id,
        recipient message id or dead-letter entry id): from source to recipients and receipts."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            found: dict[str, sqlite3.Row] = {}
            ids, inputs = {message_id}, set[str]()
            for _ in range(4):  # source → canonical → recipient message → receipt
                rows = _related(db, ids, inputs)
                if all(r["id"] in found for r in rows):
                    break
                for row in rows:
                    found[row["id"]] = row
                    ids |= {
                        v for v in (row["message_id"], row["delivered_id"], row["entry_id"]) if v
                    }
                    inputs |= {row["input"]} if row["input"] else set()
                    if row["step"] == "replayed" and row["output"]:
                        # The replayed input's new position: what the stage did with it again.
                        inputs.add(row["output"])
        ordered = sorted(found.values(), key=lambda r: (r["time"], r["writer"], r["seq"]))
        names = [f.name for f in fields(TrailRow)]
        return [TrailRow(**{name: row[name] for name in names}) for row in ordered]

    def disclosures(self, subject: str, since: datetime | None = None) -> list[Disclosure]:
        """Every delivery of data about the person with pseudonymous key `subject`."""
        query = (
            "SELECT time, recipient, event_type, rule_id, legal_basis, message_id, "
            "redirected_from FROM audit WHERE subject = ? AND step = 'delivered' AND time >= ? "
            "ORDER BY time, writer, seq"
        )
        after = _as_stored_time(since) if since else ""
        with self._connect() as db:
            rows = db.execute(query, (subject, after)).fetchall()
        return [Disclosure(*row) for row in rows]


def _ensure_schema(db: sqlite3.Connection) -> None:
    # The projection is derived data: a file of another layout is dropped, and the hub (or
    # `hub audit rebuild`) projects the whole topic again.
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version != _SCHEMA_VERSION:
        db.executescript("DROP TABLE IF EXISTS audit; DROP TABLE IF EXISTS progress;")
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    db.executescript(_SCHEMA)


def _related(db: sqlite3.Connection, ids: set[str], inputs: set[str]) -> list[sqlite3.Row]:
    marks_ids = ", ".join("?" for _ in ids)
    marks_inputs = ", ".join("?" for _ in inputs) or "NULL"
    query = (
        f"SELECT * FROM audit WHERE step != 'checkpoint' AND (id IN ({marks_ids}) "  # noqa: S608 - only '?' placeholders are put in; values are bound
        f"OR message_id IN ({marks_ids}) OR delivered_id IN ({marks_ids}) "
        f"OR source_event_id IN ({marks_ids}) OR entry_id IN ({marks_ids}) "
        f"OR input IN ({marks_inputs}))"
    )
    params = [*ids] * 5 + [*inputs]
    return list(db.execute(query, params))


def _row(stored: InboundRecord) -> tuple[Any, ...] | None:
    try:
        record = decode_record(stored.value)
    except ValidationError:
        return None
    values = _values(record)
    values["audit_partition"] = stored.position.partition
    values["audit_offset"] = stored.position.offset
    return tuple(values[c] for c in _COLUMNS)


def _values(record: AuditRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    data["time"] = _as_stored_time(record.time)
    for where in ("input", "output"):
        pos = getattr(record, where)
        data[where] = f"{pos.topic}[{pos.partition}]@{pos.offset}" if pos else None
    return data


def _as_stored_time(moment: datetime) -> str:
    # One spelling, so that text order is time order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _progress(records: Sequence[InboundRecord]) -> list[tuple[str, int, int]]:
    ends: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.position.topic, r.position.partition)
        ends[key] = max(ends.get(key, 0), r.position.offset + 1)
    return [(topic, partition, offset) for (topic, partition), offset in ends.items()]


def _translated(exc: sqlite3.Error) -> TransientError:
    return TransientError(f"the audit projection is unavailable: {exc}", reason=Reason.TIMEOUT)
