"""The audit writer: appends a process's audit records to its own hash chain, loss- and gap-free.

One writer per hub process incarnation (`new_writer_id`), one chain per writer, on one fixed
partition of the audit topic, so the broker's order of that partition is the chain's order.

How the chain survives at-least-once delivery:
- `append` takes a stage batch's facts, numbers and chains them, and turns them into *segments*:
  groups of records sent as ONE producer batch, which the broker appends whole or not at all.
  The last record of every segment is signed (the chain's head at that point, see
  `schemas.audit`): a segment is its records plus one signature, and nothing after a writer's
  last signature can be the hub's.
- Segments go out one at a time, under a lock, each acknowledged before the next is sent. A
  segment that fails stays at the head of the queue and is sent again, byte for byte, before
  anything newer; so a later record can never land while an earlier one is missing. When a
  failed send had in fact been stored, the resend is a byte-identical duplicate, which the
  verifier reports as benign.
- `append` returns only once every segment is acknowledged: the stage commits its input
  offsets after that, so no step happens without its record.

The first record of a chain is `started`: it names the signing key and the trail's retention.

Checkpoints: after at least every N records or T seconds (and, with no records, every heartbeat,
so a verifier sees the writer is alive), the writer adds a signed checkpoint record to the chain
(in the same segment as the records it covers) and, once that segment is stored, publishes the
same bytes to the checkpoints topic as an anchor outside the audit topic. A failed anchor is
retried before the next one; it does not fail the stage's batch, whose records are already safe.
`close` writes a final, `closing` checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

import structlog

from hub.pipeline import headers as h
from hub.pipeline.records import Headers, Position
from hub.signing.signer import Signer
from schemas.audit import (
    CHECKPOINT_TYPE,
    GENESIS,
    HEAD_TYPE,
    AuditFacts,
    AuditStep,
    audit_id,
    encode_chained,
    record_hash,
    valid_writer,
)
from schemas.errors import TransientError

__all__ = ["AuditWriter", "ChainEntry", "ChainLog", "MemoryChainLog", "new_writer_id"]

log = structlog.get_logger(__name__)

# Well below a broker's default 1 MiB per record batch, whatever the headers add.
MAX_SEGMENT_BYTES = 256 * 1024
# What the head's signature header adds to a segment (a JWS of about 300 bytes).
_SIGNATURE_ROOM = 1024


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One record of the chain, as it goes to the broker; kept as is for byte-identical resends."""

    key: bytes
    value: bytes
    headers: Headers
    timestamp_ms: int
    seq: int
    id: str

    @property
    def signed(self) -> bool:
        return any(name == h.SIGNATURE for name, _ in self.headers)


class ChainLog(Protocol):
    """Where a writer's chain is stored. `append` stores a segment whole, or raises."""

    async def append(self, segment: Sequence[ChainEntry]) -> Position:
        """Store `segment` as one unit; return the position of its first record.

        Raises `TransientError` when the broker did not acknowledge it (it may still be stored).
        """
        ...

    async def anchor(self, checkpoint: ChainEntry) -> Position:
        """Store a copy of a checkpoint outside the audit topic."""
        ...


class MemoryChainLog:
    """`ChainLog` in memory, for tests: `fail_next` fails that many calls after storing or not."""

    def __init__(self) -> None:
        self.records: list[ChainEntry] = []
        self.anchors: list[ChainEntry] = []
        self.fail_next = 0
        self.store_before_failing = False

    async def append(self, segment: Sequence[ChainEntry]) -> Position:
        return self._store(self.records, list(segment), "hub.audit.v1")

    async def anchor(self, checkpoint: ChainEntry) -> Position:
        return self._store(self.anchors, [checkpoint], "hub.audit.checkpoints.v1")

    def _store(self, into: list[ChainEntry], entries: list[ChainEntry], topic: str) -> Position:
        first = len(into)
        if self.fail_next > 0:
            self.fail_next -= 1
            if self.store_before_failing:
                into.extend(entries)
            raise TransientError("memory chain log told to fail")
        into.extend(entries)
        return Position(topic, 0, first)


def new_writer_id() -> str:
    """A chain of its own for this process incarnation: host, pid, start time and a nonce."""
    host = socket.gethostname().split(".")[0][:40] or "host"
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{host}:{os.getpid()}:{started}:{secrets.token_hex(4)}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuditWriter:
    def __init__(
        self,
        chain_log: ChainLog,
        *,
        signer: Signer,
        writer_id: str,
        checkpoint_every_records: int,
        checkpoint_every_s: float,
        heartbeat_every_s: float = 300.0,
        retention_days: int | None = None,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Checked once here: every record carries it, and is encoded without a second check.
        self.writer_id = valid_writer(writer_id)
        self._key = writer_id.encode()
        self._log = chain_log
        self._signer = signer
        self._every_records = checkpoint_every_records
        self._every_s = checkpoint_every_s
        self._heartbeat_s = heartbeat_every_s
        self._retention_days = retention_days
        self._clock = clock
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._next_seq = 0
        self._head = GENESIS
        self._since_checkpoint = 0
        self._last_checkpoint_at = monotonic()
        self._closed = False
        self._segments: list[list[ChainEntry]] = []
        self._anchors: list[ChainEntry] = []

    @property
    def next_seq(self) -> int:
        return self._next_seq

    @property
    def pending(self) -> int:
        """Records built but not yet acknowledged by the broker."""
        return sum(len(s) for s in self._segments)

    async def append(self, facts: Sequence[AuditFacts]) -> None:
        """Chain `facts` and return once the broker has acknowledged every record of them."""
        async with self._lock:
            if self._closed:
                raise RuntimeError("the audit writer is closed")
            entries = self._started() if facts else []
            entries += [self._chain(f) for f in facts]
            if entries and self._checkpoint_due():
                entries.append(self._checkpoint(closing=False))
            self._queue(entries)
            await self._flush()

    async def tick(self) -> None:
        """Write a checkpoint if T seconds passed since the last one and records came since, or
        a heartbeat passed without any."""
        async with self._lock:
            if not self._closed and self._next_seq and self._checkpoint_due(idle=True):
                self._queue([self._checkpoint(closing=False)])
            await self._flush()

    async def close(self) -> None:
        """Seal the chain with a closing checkpoint (only if it has records at all)."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._next_seq:
                self._queue([self._checkpoint(closing=True)])
            await self._flush()

    def _checkpoint_due(self, *, idle: bool = False) -> bool:
        elapsed = self._monotonic() - self._last_checkpoint_at
        if not self._since_checkpoint:
            return idle and elapsed >= self._heartbeat_s
        return self._since_checkpoint >= self._every_records or elapsed >= self._every_s

    def _started(self) -> list[ChainEntry]:
        """The chain's first record, before anything else it holds."""
        if self._next_seq:
            return []
        facts = AuditFacts(
            id=audit_id(AuditStep.STARTED, self.writer_id),
            step=AuditStep.STARTED,
            stage="audit",
            kid=self._signer.kid,
            retention_days=self._retention_days,
        )
        return [self._entry(facts, headers=())]

    def _chain(self, facts: AuditFacts) -> ChainEntry:
        self._since_checkpoint += 1
        return self._entry(facts, headers=())

    def _checkpoint(self, *, closing: bool) -> ChainEntry:
        seq = self._next_seq
        facts = AuditFacts(
            id=audit_id(AuditStep.CHECKPOINT, self.writer_id, str(seq)),
            step=AuditStep.CHECKPOINT,
            stage="audit",
            closing=closing,
        )
        unsigned = self._entry(facts, headers=())
        signature = self._signer.sign(
            unsigned.value, message_id=unsigned.id, message_type=CHECKPOINT_TYPE
        )
        entry = replace(unsigned, headers=((h.SIGNATURE, signature.encode("ascii")),))
        self._since_checkpoint = 0
        self._last_checkpoint_at = self._monotonic()
        self._anchors.append(entry)
        return entry

    def _entry(self, facts: AuditFacts, *, headers: Headers) -> ChainEntry:
        """`facts` as the chain's next record: numbered, linked to the head, encoded."""
        seq, now = self._next_seq, self._clock()
        value = encode_chained(facts, writer=self.writer_id, seq=seq, prev=self._head, time=now)
        self._head = record_hash(value)
        self._next_seq = seq + 1
        millis = int(now.timestamp() * 1000)
        return ChainEntry(self._key, value, headers, millis, seq, facts.id)

    def _sealed(self, segment: list[ChainEntry]) -> list[ChainEntry]:
        """`segment` with its last record signed: the chain's head when the segment is stored."""
        last = segment[-1]
        if last.signed:  # a checkpoint: signed already
            return segment
        signature = self._signer.sign(last.value, message_id=last.id, message_type=HEAD_TYPE)
        headers = (*last.headers, (h.SIGNATURE, signature.encode("ascii")))
        return [*segment[:-1], replace(last, headers=headers)]

    def _queue(self, entries: list[ChainEntry]) -> None:
        segment: list[ChainEntry] = []
        size = 0
        for entry in entries:
            entry_size = len(entry.value) + len(entry.key) + sum(len(v) for _, v in entry.headers)
            if segment and size + entry_size > MAX_SEGMENT_BYTES - _SIGNATURE_ROOM:
                self._segments.append(self._sealed(segment))
                segment, size = [], 0
            segment.append(entry)
            size += entry_size
        if segment:
            self._segments.append(self._sealed(segment))

    async def _flush(self) -> None:
        # Oldest first, one at a time: nothing newer is sent while something older is unsure.
        while self._segments:
            segment = self._segments[0]
            try:
                await self._log.append(segment)
            except TransientError:
                log.warning("audit.segment_unacknowledged", first_seq=segment[0].seq)
                raise
            self._segments.pop(0)
        await self._flush_anchors()

    async def _flush_anchors(self) -> None:
        # Only reached with every segment stored: an anchor never precedes what it vouches for.
        while self._anchors:
            try:
                await self._log.anchor(self._anchors[0])
            except TransientError as exc:
                # The records are safe on the audit topic; the anchor is tried again next time.
                log.warning("audit.anchor_failed", seq=self._anchors[0].seq, reason=exc.reason)
                return
            self._anchors.pop(0)
