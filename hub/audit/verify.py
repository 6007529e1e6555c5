"""Checking a trail: every writer's chain, its signatures, its checkpoints' anchors on the topic
and, when an auditor kept some, its anchors outside the cluster.

Pure functions over stored records (position, value bytes, headers), kept apart from the writer
so that what checks the trail shares nothing with what wrote it but the format
(`schemas.audit`). Every finding names the writer, and the partition, offset and seq where it is:

- gap            seqs missing (deleted records, or a chain that does not start at 0)
- reordered      a record stored after one with a higher seq
- altered        a record whose hash is not what the next record chained to (its content was
                 changed, or it was replaced)
- conflict       two different records with the same seq
- unreadable     a record that is not an audit record at all
- no_start       a chain whose seq 0 is not a `started` record naming its key
- unknown_key    a chain whose `started` record names a key the JWKS does not hold
- bad_signature  a signed head whose signature does not verify (made with a key that is not
                 the hub's, or over other bytes)
- bad_checkpoint the same, for a checkpoint
- wrong_key      a signature by a hub key, but not the one the chain's `started` record names
- unsigned       records after the chain's last valid signature: the hub signs every segment it
                 stores, so these were appended, or replaced, by someone without the key
- truncated      the chain ends before a checkpoint anchored on the checkpoint topic or in an
                 auditor's anchor file (a writer deleted whole shows so through its anchors)
- unanchored     a checkpoint without its copy on the checkpoint topic, older than the grace
                 period (anchors were deleted)
- open           no closing checkpoint, and the chain's last record is older than the grace
                 period: the writer is gone, and its tail may have been cut with its anchors
- sealed         records after the seq an operator's `sealed` record says the chain ended at (a
                 chain that ends before it, or differs from it, is `truncated` or `altered`)
- split          one writer's records on more than one partition

Benign, reported but not failing: byte-identical duplicates (a resend after an unacknowledged
send); a chain still open whose last record is within the grace period (its writer is live: it
writes a heartbeat checkpoint at least every few minutes); a missing head, or a writer missing
whole, whose records are older than the retention the trail itself records (`pruned`); and an
unanchored checkpoint within the grace period (its writer retries the anchor). A dead writer's
chain that an operator sealed (`hub audit seal`) where it ended is closed: the signed seal is its
anchor from then on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.audit.anchors import PinnedCheckpoint
from hub.audit.rows import Row, Rows
from hub.pipeline import headers as h
from hub.pipeline.records import Headers, InboundRecord, Position
from hub.signing.verifying import raw_header
from schemas.audit import (
    CHECKPOINT_TYPE,
    GENESIS,
    HEAD_TYPE,
    AuditRecord,
    AuditStep,
    ChainEnd,
    record_hash,
)
from schemas.errors import SignatureRejected
from schemas.signature import PublicKeys, VerifiedClaims, verify

__all__ = [
    "DEFAULT_GRACE",
    "Finding",
    "TrailReport",
    "TrailVerifier",
    "WriterReport",
    "verify_trail",
]

DEFAULT_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    detail: str
    position: Position | None = None
    seq: int | None = None
    error: bool = True
    writer: str | None = None

    def __str__(self) -> str:
        where = f" at {self.position}" if self.position else ""
        seq = f" seq {self.seq}" if self.seq is not None else ""
        writer = f" (writer {self.writer})" if self.writer else ""
        return f"{self.kind}{seq}{where}{writer}: {self.detail}"


@dataclass(frozen=True, slots=True)
class _Stored:
    position: Position
    value: bytes
    hash: str
    seq: int
    prev: str
    record: AuditRecord | None
    headers: Headers

    @property
    def time(self) -> datetime | None:
        return self.record.time if self.record else None


@dataclass(frozen=True, slots=True)
class _Anchor:
    """A checkpoint known from outside the audit topic: where, and what it must hash to."""

    seq: int
    hash: str
    time: datetime
    where: str
    on_topic: bool


@dataclass(frozen=True, slots=True)
class _Judge:
    """What the verifier needs to judge time: now, the grace period, and the retention cutoff."""

    now: datetime
    grace: timedelta
    cutoff: datetime | None

    def live(self, moment: datetime) -> bool:
        return self.now - moment <= self.grace

    def pruned(self, moment: datetime | None) -> bool:
        # Retention deletes whole log segments: a record just after the cutoff may have lost
        # its predecessor, hence the grace period's tolerance.
        return self.cutoff is not None and moment is not None and moment < self.cutoff + self.grace


@dataclass
class WriterReport:
    writer: str
    records: int = 0
    duplicates: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    verified_to: int | None = None
    anchored_to: int | None = None
    signed_to: int | None = None
    kid: str | None = None
    closed: bool = False
    started: datetime | None = None
    last_time: datetime | None = None
    last_checkpoint: PinnedCheckpoint | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not any(f.error for f in self.findings)


@dataclass
class TrailReport:
    writers: list[WriterReport]
    findings: list[Finding]
    retention_days: int | None = None

    @property
    def intact(self) -> bool:
        return not any(f.error for f in self.findings) and all(w.intact for w in self.writers)

    @property
    def records(self) -> int:
        return sum(w.records for w in self.writers)


def verify_trail(
    records: Iterable[InboundRecord],
    anchors: Iterable[InboundRecord],
    keys: PublicKeys,
    *,
    pinned: Sequence[PinnedCheckpoint] = (),
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> TrailReport:
    """Check the audit topic's `records` against the checkpoint topic's `anchors` and the
    checkpoints an auditor `pinned` outside the cluster, as of `now` (default: the clock)."""
    verifier = TrailVerifier(keys)
    for record in records:
        verifier.add(record)
    return verifier.report(anchors, pinned=pinned, now=now, grace=grace)


class TrailVerifier:
    """The audit topic's records fed one at a time, each writer's in the order stored; then the
    report. What it holds per record is its row (`hub.audit.rows`); whole, only the few records
    the checks read again: starts, checkpoints, seals and each writer's last."""

    def __init__(self, keys: PublicKeys) -> None:
        self._keys = keys
        self._chains: dict[str, _Chain] = {}
        self._loose: list[Finding] = []

    def add(self, raw: InboundRecord) -> None:
        parsed = _parse(raw)
        if parsed is None:
            self._loose.append(Finding("unreadable", "not an audit record", raw.position))
            return
        writer, stored = parsed
        chain = self._chains.get(writer)
        if chain is None:
            chain = self._chains[writer] = _Chain(writer, self._keys)
        chain.add(stored)

    def report(
        self,
        anchors: Iterable[InboundRecord],
        *,
        pinned: Sequence[PinnedCheckpoint] = (),
        now: datetime | None = None,
        grace: timedelta = DEFAULT_GRACE,
    ) -> TrailReport:
        """Judge every chain against the checkpoint topic's `anchors` and the auditor's
        `pinned` checkpoints, as of `now` (default: the clock)."""
        loose = list(self._loose)
        chains, keys = self._chains, self._keys
        outside = _collect_anchors(anchors, keys, loose)
        for writer, found in _collect_pinned(pinned, keys, loose).items():
            outside[writer].extend(found)
        retention = _retention(chains.values())
        moment = now or datetime.now(UTC)
        cutoff = moment - timedelta(days=retention) if retention else None
        judge = _Judge(moment, grace, cutoff)
        seals = _seals(chains.values())
        reports = []
        for writer in sorted(set(chains) | set(outside) | set(seals)):
            chain = chains.get(writer) or _Chain(writer, keys)
            reports.append(chain.check(outside.get(writer, []), judge, seals.get(writer)))
        return TrailReport(reports, loose, retention)


@dataclass(frozen=True, slots=True)
class _Seal:
    """An operator's signed word that a dead writer's chain ended at `end`."""

    end: ChainEnd
    record: AuditRecord
    position: Position

    def anchor(self) -> _Anchor:
        where = f"the seal at {self.position} by {self.record.operator}"
        return _Anchor(self.end.seq, self.end.hash, self.record.time, where, False)


def _seals(chains: Iterable[_Chain]) -> dict[str, _Seal]:
    """The seals that a valid signature vouches for; the furthest per sealed writer."""
    found: dict[str, _Seal] = {}
    for chain in chains:
        for seal in chain.vouched_seals():
            known = found.get(seal.end.writer)
            if known is None or seal.end.seq > known.end.seq:
                found[seal.end.writer] = seal
    return found


def _retention(chains: Iterable[_Chain]) -> int | None:
    """What the latest writer to start recorded as the trail's retention (None: forever)."""
    starts = [s for s in (c.trusted_start() for c in chains) if s is not None]
    if not starts:
        return None
    return max(starts, key=lambda r: r.time).retention_days


def _parse(raw: InboundRecord) -> tuple[str, _Stored] | None:
    digest = record_hash(raw.value)
    try:
        record = AuditRecord.model_validate_json(raw.value)
    except ValidationError:
        record = None
    if record is not None:
        stored = _Stored(
            raw.position, raw.value, digest, record.seq, record.prev, record, raw.headers
        )
        return record.writer, stored
    # Not a valid record, but perhaps one whose chain members still say where it belongs.
    try:
        data: Any = json.loads(raw.value)
        writer, seq, prev = str(data["writer"]), int(data["seq"]), str(data["prev"])
    except (ValueError, TypeError, KeyError):
        return None
    return writer, _Stored(raw.position, raw.value, digest, seq, prev, None, raw.headers)


def _collect_anchors(
    anchors: Iterable[InboundRecord], keys: PublicKeys, loose: list[Finding]
) -> dict[str, list[_Anchor]]:
    by_writer: dict[str, list[_Anchor]] = defaultdict(list)
    for raw in anchors:
        parsed = _parse(raw)
        record = parsed[1].record if parsed else None
        if parsed is None or record is None:
            loose.append(Finding("unreadable", "not a checkpoint", raw.position))
            continue
        writer, stored = parsed
        problem = _checkpoint_problem(raw.value, raw.headers, record, keys)
        if problem:
            loose.append(Finding("bad_checkpoint", f"anchor: {problem}", raw.position))
            continue
        where = f"{raw.position} on the checkpoint topic"
        by_writer[writer].append(_Anchor(stored.seq, stored.hash, record.time, where, True))
    return by_writer


def _collect_pinned(
    pinned: Sequence[PinnedCheckpoint], keys: PublicKeys, loose: list[Finding]
) -> dict[str, list[_Anchor]]:
    by_writer: dict[str, list[_Anchor]] = defaultdict(list)
    for number, anchor in enumerate(pinned):
        problem = _pinned_problem(anchor, keys)
        if problem:
            detail = f"anchor {number} of the anchor file ({anchor.writer} seq {anchor.seq}): "
            loose.append(Finding("bad_anchor", detail + problem, writer=anchor.writer))
            continue
        where = f"the anchor file (exported from {anchor.position})"
        by_writer[anchor.writer].append(_Anchor(anchor.seq, anchor.hash, anchor.time, where, False))
    return by_writer


def _pinned_problem(anchor: PinnedCheckpoint, keys: PublicKeys) -> str | None:
    if record_hash(anchor.value) != anchor.hash:
        return "its hash is not the hash of its record"
    try:
        record = AuditRecord.model_validate_json(anchor.value)
    except ValidationError:
        return "its record is not an audit record"
    if (record.writer, record.seq, record.time) != (anchor.writer, anchor.seq, anchor.time):
        return "its writer, seq or time is not its record's"
    headers = ((h.SIGNATURE, anchor.signature.encode("ascii")),)
    return _checkpoint_problem(anchor.value, headers, record, keys)


def _checkpoint_problem(
    value: bytes, headers: Headers, record: AuditRecord, keys: PublicKeys
) -> str | None:
    if record.step is not AuditStep.CHECKPOINT:
        return f"a {record.step.value} record where a checkpoint belongs"
    try:
        _verify_signature(value, headers, record, keys)
    except SignatureRejected as exc:
        return f"signature refused ({exc.reason.value}: {exc.detail})"
    return None


def _verify_signature(
    value: bytes, headers: Headers, record: AuditRecord, keys: PublicKeys
) -> VerifiedClaims:
    kind = CHECKPOINT_TYPE if record.step is AuditStep.CHECKPOINT else HEAD_TYPE
    signature = raw_header(headers, h.SIGNATURE)
    return verify(value, signature, keys, expected_id=record.id, expected_type=kind)


# Records read again after they were fed: a chain's start, its checkpoints and its seals.
_KEPT = frozenset({AuditStep.STARTED, AuditStep.CHECKPOINT, AuditStep.SEALED})

_Placed = _Stored | Row


class _Chain:
    """One writer's records, fed in stored order, and what is wrong with them."""

    def __init__(self, writer: str, keys: PublicKeys) -> None:
        self.report = WriterReport(writer)
        self._keys = keys
        self._rows = Rows()
        self._kept: dict[int, _Stored] = {}
        self._last: _Stored | None = None
        self._first: _Stored | None = None
        self._partitions_seen: set[tuple[str, int]] = set()
        self._highest: _Stored | None = None
        self._reordered: list[Finding] = []
        # Every signature, checked once as it arrives: the claims, or why it was refused.
        self._signatures: dict[int, VerifiedClaims | str] = {}

    def add(self, item: _Stored) -> None:
        self.report.records += 1
        first = self._rows.get(item.seq)
        if first is None:
            self._arrive(item)
        elif first.hash == item.hash:
            self.report.duplicates += 1
        else:
            self._find(
                "conflict", f"differs from the record with this seq at {first.position}", item
            )
        if item.record is None:
            self._find("unreadable", "has chain members but is not a valid audit record", item)

    def _arrive(self, item: _Stored) -> None:
        """The first record stored with its seq."""
        self._rows.put(Row(item.seq, item.hash, item.prev, item.position, item.time))
        self._first = self._first or item
        self._partitions_seen.add((item.position.topic, item.position.partition))
        self._order(item)
        record = item.record
        if record is None:
            return
        if record.step in _KEPT or item.seq == 0:
            self._kept[item.seq] = item
        if raw_header(item.headers, h.SIGNATURE) is not None:
            self._signatures[item.seq] = self._signature(item, record)
        if self._last is None or item.seq > self._last.seq:
            self._last = item

    def trusted_start(self) -> AuditRecord | None:
        """The chain's `started` record, if a valid signature vouches for it."""
        start = self._kept.get(0)
        if start is None or start.record is None or start.record.step is not AuditStep.STARTED:
            return None
        return start.record if self._vouched(0) else None

    def vouched_seals(self) -> list[_Seal]:
        return [
            _Seal(item.record.sealed, item.record, item.position)
            for seq, item in sorted(self._kept.items())
            if item.record is not None
            and item.record.step is AuditStep.SEALED
            and item.record.sealed is not None
            and self._vouched(seq)
        ]

    def _vouched(self, seq: int) -> bool:
        """Whether a valid signature by the chain's own key covers the record at `seq`: the
        records from it on are present and linked up to a signed one."""
        start = self._kept.get(0)
        kid = start.record.kid if start is not None and start.record is not None else None
        head = self._rows.get(seq)
        while head is not None:
            claims = self._signatures.get(head.seq)
            if isinstance(claims, VerifiedClaims):
                return kid is None or claims.kid == kid
            after = self._rows.get(head.seq + 1)
            head = after if after is not None and after.prev == head.hash else None
        return False

    def check(
        self, anchors: list[_Anchor], judge: _Judge, seal: _Seal | None = None
    ) -> WriterReport:
        report, rows = self.report, self._rows
        if rows.first is not None and rows.last is not None:
            report.first_seq, report.last_seq = rows.first, rows.last
            last = rows.get(rows.last)
            if last is not None:
                report.last_time, report.last_hash = last.time, last.hash
        self._partitions()
        report.findings.extend(self._reordered)
        self._gaps(judge)
        self._links()
        self._start()
        self._signed()
        self._anchors([*anchors, seal.anchor()] if seal else anchors, judge, seal)
        self._tail(judge, seal)
        self._verified_range()
        return report

    def _find(
        self,
        kind: str,
        detail: str,
        item: _Placed | None,
        *,
        error: bool = True,
        seq: int | None = None,
    ) -> None:
        self.report.findings.append(self._finding(kind, detail, item, error=error, seq=seq))

    def _finding(
        self,
        kind: str,
        detail: str,
        item: _Placed | None,
        *,
        error: bool = True,
        seq: int | None = None,
    ) -> Finding:
        pos = item.position if item else None
        if seq is None and item is not None:
            seq = item.seq
        return Finding(kind, detail, pos, seq, error, self.report.writer)

    def _signature(self, item: _Stored, record: AuditRecord) -> VerifiedClaims | str:
        try:
            return _verify_signature(item.value, item.headers, record, self._keys)
        except SignatureRejected as exc:
            return f"signature refused ({exc.reason.value}: {exc.detail})"

    def _partitions(self) -> None:
        if len(self._partitions_seen) > 1:
            where = f"records on {len(self._partitions_seen)} partitions"
            self._find("split", where, self._first)

    def _order(self, item: _Stored) -> None:
        highest = self._highest
        if highest is not None and item.seq < highest.seq:
            where = f"stored after seq {highest.seq} at {highest.position}"
            self._reordered.append(self._finding("reordered", where, item))
        elif highest is None or item.seq > highest.seq:
            self._highest = item

    def _gaps(self, judge: _Judge) -> None:
        rows = self._rows
        expected = 0
        for seq in rows.seqs():
            if seq > expected:
                after = rows.get(expected - 1)
                here = rows.get(seq)
                if after is None and here is not None and judge.pruned(here.time):
                    self._find(
                        "pruned",
                        f"seqs 0..{seq - 1} are gone; they are older than the trail's retention",
                        here,
                        seq=0,
                        error=False,
                    )
                else:
                    where = f"after {after.position}" if after else "at the start of the chain"
                    self._find(
                        "gap",
                        f"seqs {expected}..{seq - 1} missing ({where}; next is seq {seq} here)",
                        here,
                        seq=expected,
                    )
            expected = seq + 1

    def _links(self) -> None:
        rows = self._rows
        before: Row | None = None
        for seq in rows.seqs():
            item = rows.get(seq)
            if item is None:
                continue
            if seq == 0:
                if item.prev != GENESIS:
                    self._find("altered", "the first record does not start from genesis", item)
            elif before is not None and before.seq == seq - 1 and before.hash != item.prev:
                self._find(
                    "altered",
                    f"its hash is not what seq {seq} at {item.position} chained to",
                    before,
                )
            before = item

    def _start(self) -> None:
        start = self._kept.get(0)
        if start is None or start.record is None:
            return
        record = start.record
        if record.step is not AuditStep.STARTED or record.kid is None:
            self._find("no_start", "the chain does not begin with a record naming its key", start)
            return
        self.report.kid, self.report.started = record.kid, record.time
        if record.kid not in self._keys:
            self._find(
                "unknown_key",
                f"the chain names key {record.kid}, which is not in the hub's JWKS",
                start,
            )

    def _signed(self) -> None:
        kid = self.report.kid
        valid: list[int] = []
        for seq, claims in sorted(self._signatures.items()):
            item = self._rows.get(seq)
            if isinstance(claims, str):
                kept = self._kept.get(seq)
                checkpoint = (
                    kept is not None
                    and kept.record is not None
                    and kept.record.step is AuditStep.CHECKPOINT
                )
                self._find("bad_checkpoint" if checkpoint else "bad_signature", claims, item)
            elif kid is not None and claims.kid != kid:
                self._find(
                    "wrong_key",
                    f"signed with key {claims.kid}, but the chain's start names {kid}",
                    item,
                )
            else:
                valid.append(seq)
        self.report.signed_to = max(valid) if valid else None
        self._unsigned()

    def _unsigned(self) -> None:
        rows = self._rows
        if rows.last is None:
            return
        signed_to, last = self.report.signed_to, rows.last
        if signed_to is not None and signed_to >= last:
            return
        first = next(s for s in rows.seqs() if signed_to is None or s > signed_to)
        after = (
            f"after the last valid signature (seq {signed_to})"
            if signed_to is not None
            else "and the chain has no valid signature at all"
        )
        self._find(
            "unsigned",
            f"seqs {first}..{last} are not signed by the writer's key {after}: "
            "appended or replaced without the hub's key",
            rows.get(first),
        )

    def _anchors(self, anchors: list[_Anchor], judge: _Judge, seal: _Seal | None) -> None:
        last = self.report.last_seq
        first = self.report.first_seq
        kept = [
            a for a in anchors if not (judge.pruned(a.time) and (first is None or a.seq < first))
        ]
        for anchor in kept:
            stored = self._rows.get(anchor.seq)
            if stored is not None and stored.hash != anchor.hash:
                self._find("altered", f"differs from its anchor in {anchor.where}", stored)
        if kept:
            furthest = max(kept, key=lambda a: a.seq)
            self.report.anchored_to = furthest.seq
            if last is None or furthest.seq > last:
                self._truncated(furthest, last)
        self._unanchored({a.seq for a in anchors if a.on_topic}, judge, seal)

    def _unanchored(self, anchored: set[int], judge: _Judge, seal: _Seal | None) -> None:
        for item, record in self._checkpoint_items():
            if item.seq in anchored:
                continue
            # A live writer retries a failed anchor; one gone by retention went with its anchor;
            # a seal pins the whole chain up to where it ended (a killed writer's last anchor
            # may never have been sent).
            sealed = seal is not None and item.seq <= seal.end.seq
            benign = judge.live(record.time) or judge.pruned(record.time) or sealed
            self._find(
                "unanchored",
                "checkpoint has no copy on the checkpoint topic",
                item,
                error=not benign,
            )

    def _truncated(self, anchor: _Anchor, last: int | None) -> None:
        tail = self._rows.get(last) if last is not None else None
        ends = f"ends at seq {last} ({tail.position})" if tail else "has no records on the topic"
        self._find(
            "truncated",
            f"the chain {ends}, but its checkpoint at seq {anchor.seq} is anchored in "
            f"{anchor.where}",
            tail,
            seq=(last + 1) if last is not None else 0,
        )

    def _tail(self, judge: _Judge, seal: _Seal | None) -> None:
        rows = self._rows
        if rows.first is None or rows.last is None:
            return
        last = rows.get(rows.last)
        if last is None:
            return
        whole = self._last if self._last is not None and self._last.seq == last.seq else None
        self.report.closed = bool(whole and whole.record and whole.record.closing)
        if seal is not None and not self.report.closed:
            self._sealed(seal, last)
            return
        if self.report.closed or last.time is None:
            return
        first = rows.get(rows.first)
        since = self.report.started or (first.time if first else None)
        live = judge.live(last.time)
        state = (
            "its writer is live"
            if live
            else f"silent for longer than the grace period ({judge.grace}): the writer is gone "
            "and its tail may have been cut with its anchors"
        )
        self._find(
            "open",
            f"open since {_moment(since)}, last record at {_moment(last.time)}; {state}",
            last,
            error=not live,
        )

    def _sealed(self, seal: _Seal, last: Row) -> None:
        end, by = seal.end, f"{seal.record.operator} at {seal.position}"
        if last.seq > end.seq:
            self._find(
                "sealed",
                f"seqs {end.seq + 1}..{last.seq} come after seq {end.seq}, where {by} sealed "
                "the chain",
                self._rows.get(end.seq + 1),
                seq=end.seq + 1,
            )
        elif last.seq == end.seq and last.hash == end.hash:
            self.report.closed = True
            self._find(
                "sealed",
                f"its writer died; {by} sealed the chain here ({seal.record.note})",
                last,
                error=False,
            )

    def _verified_range(self) -> None:
        errors = [f.seq for f in self.report.findings if f.error and f.seq is not None]
        if self._rows.last is None:
            return
        self.report.verified_to = min(errors) - 1 if errors else self._rows.last
        self.report.last_checkpoint = self._pinnable(self.report.verified_to)

    def _pinnable(self, verified_to: int) -> PinnedCheckpoint | None:
        """The furthest checkpoint in the verified range, as an auditor keeps it."""
        candidates = [
            (i, r)
            for i, r in self._checkpoint_items()
            if i.seq <= verified_to and isinstance(self._signatures.get(i.seq), VerifiedClaims)
        ]
        if not candidates:
            return None
        item, record = max(candidates, key=lambda c: c[0].seq)
        signature = raw_header(item.headers, h.SIGNATURE)
        if signature is None:  # cannot be: its signature verified
            return None
        return PinnedCheckpoint(
            writer=self.report.writer,
            seq=item.seq,
            hash=item.hash,
            time=record.time,
            position=str(item.position),
            value=item.value,
            signature=signature.decode("ascii"),
        )

    def _checkpoint_items(self) -> list[tuple[_Stored, AuditRecord]]:
        return [
            (i, i.record)
            for i in self._kept.values()
            if i.record is not None and i.record.step is AuditStep.CHECKPOINT
        ]


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "?"
