"""Checking a trail: every writer's chain, its signed checkpoints and their outside anchors.

Pure functions over stored records (position, value bytes, headers), kept apart from the writer
so that what checks the trail shares nothing with what wrote it but the format. Per writer it
finds, naming partition, offset and seq:

- gap            seqs missing (deleted records, or a chain that does not start at 0)
- reordered      a record stored after one with a higher seq
- altered        a record whose hash is not what the next record chained to (its content was
                 changed, or it was replaced)
- conflict       two different records with the same seq
- unreadable     a record that is not an audit record at all
- bad_checkpoint a checkpoint whose signature does not verify with the JWKS
- truncated      the chain ends before a checkpoint anchored outside the audit topic (an
                 anchored checkpoint that differs from the audit topic's is `altered`)
- split          one writer's records on more than one partition

Benign, reported but not failing: byte-identical duplicates (a resend after an unacknowledged
send), checkpoints whose anchor is missing, and a chain that is still open (its process is
running, or was killed): records after its last anchored checkpoint could be cut off unseen,
which is why checkpoints are frequent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.pipeline import headers as h
from hub.pipeline.records import Headers, InboundRecord, Position
from hub.signing.verifying import raw_header
from schemas.audit import CHECKPOINT_TYPE, GENESIS, AuditRecord, AuditStep, record_hash
from schemas.errors import SignatureRejected
from schemas.signature import PublicKeys, verify

__all__ = ["Finding", "TrailReport", "WriterReport", "verify_trail"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    detail: str
    position: Position | None = None
    seq: int | None = None
    error: bool = True

    def __str__(self) -> str:
        where = f" at {self.position}" if self.position else ""
        seq = f" seq {self.seq}" if self.seq is not None else ""
        return f"{self.kind}{seq}{where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class _Stored:
    position: Position
    value: bytes
    hash: str
    seq: int
    prev: str
    record: AuditRecord | None
    headers: Headers


@dataclass
class WriterReport:
    writer: str
    records: int = 0
    duplicates: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    verified_to: int | None = None
    anchored_to: int | None = None
    closed: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not any(f.error for f in self.findings)


@dataclass
class TrailReport:
    writers: list[WriterReport]
    findings: list[Finding]

    @property
    def intact(self) -> bool:
        return not any(f.error for f in self.findings) and all(w.intact for w in self.writers)

    @property
    def records(self) -> int:
        return sum(w.records for w in self.writers)


def verify_trail(
    records: Iterable[InboundRecord], anchors: Iterable[InboundRecord], keys: PublicKeys
) -> TrailReport:
    """Check the audit topic's `records` against the checkpoint topic's `anchors`."""
    loose: list[Finding] = []
    chains = _collect(records, loose)
    anchored = _collect_anchors(anchors, keys, loose)
    reports = []
    for writer in sorted(set(chains) | set(anchored)):
        report = _Chain(writer, chains.get(writer, []), keys).check(anchored.get(writer, []))
        reports.append(report)
    return TrailReport(reports, loose)


def _collect(records: Iterable[InboundRecord], loose: list[Finding]) -> dict[str, list[_Stored]]:
    chains: dict[str, list[_Stored]] = defaultdict(list)
    for raw in records:
        parsed = _parse(raw)
        if parsed is None:
            loose.append(Finding("unreadable", "not an audit record", raw.position))
            continue
        writer, stored = parsed
        chains[writer].append(stored)
    return chains


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
) -> dict[str, list[_Stored]]:
    by_writer: dict[str, list[_Stored]] = defaultdict(list)
    for raw in anchors:
        parsed = _parse(raw)
        if parsed is None or parsed[1].record is None:
            loose.append(Finding("unreadable", "not a checkpoint", raw.position))
            continue
        problem = _checkpoint_problem(raw, parsed[1].record, keys)
        if problem:
            loose.append(Finding("bad_checkpoint", f"anchor: {problem}", raw.position))
            continue
        by_writer[parsed[0]].append(parsed[1])
    return by_writer


def _checkpoint_problem(raw: InboundRecord, record: AuditRecord, keys: PublicKeys) -> str | None:
    if record.step is not AuditStep.CHECKPOINT:
        return f"a {record.step.value} record where a checkpoint belongs"
    try:
        verify(
            raw.value,
            raw_header(raw.headers, h.SIGNATURE),
            keys,
            expected_id=record.id,
            expected_type=CHECKPOINT_TYPE,
        )
    except SignatureRejected as exc:
        return f"signature refused ({exc.reason.value}: {exc.detail})"
    return None


class _Chain:
    """One writer's records in stored order, and what is wrong with them."""

    def __init__(self, writer: str, stored: list[_Stored], keys: PublicKeys) -> None:
        self.report = WriterReport(writer)
        self._keys = keys
        self._arrivals: list[_Stored] = []
        self._by_seq: dict[int, _Stored] = {}
        for item in stored:
            self._add(item)

    def check(self, anchors: list[_Stored]) -> WriterReport:
        report = self.report
        if self._by_seq:
            report.first_seq, report.last_seq = min(self._by_seq), max(self._by_seq)
        self._partitions()
        self._order()
        self._gaps()
        self._links()
        self._checkpoints()
        self._anchors(anchors)
        self._tail()
        self._verified_range()
        return report

    def _find(
        self,
        kind: str,
        detail: str,
        item: _Stored | None,
        *,
        error: bool = True,
        seq: int | None = None,
    ) -> None:
        pos = item.position if item else None
        if seq is None and item is not None:
            seq = item.seq
        self.report.findings.append(Finding(kind, detail, pos, seq, error))

    def _add(self, item: _Stored) -> None:
        self.report.records += 1
        first = self._by_seq.get(item.seq)
        if first is None:
            self._by_seq[item.seq] = item
            self._arrivals.append(item)
        elif first.hash == item.hash:
            self.report.duplicates += 1
        else:
            self._find(
                "conflict", f"differs from the record with this seq at {first.position}", item
            )
        if item.record is None:
            self._find("unreadable", "has chain members but is not a valid audit record", item)

    def _partitions(self) -> None:
        partitions = {(i.position.topic, i.position.partition) for i in self._arrivals}
        if len(partitions) > 1:
            self._find("split", f"records on {len(partitions)} partitions", self._arrivals[0])

    def _order(self) -> None:
        highest: _Stored | None = None
        for item in self._arrivals:
            if highest is not None and item.seq < highest.seq:
                self._find(
                    "reordered", f"stored after seq {highest.seq} at {highest.position}", item
                )
            elif highest is None or item.seq > highest.seq:
                highest = item

    def _gaps(self) -> None:
        seqs = sorted(self._by_seq)
        expected = 0
        for seq in seqs:
            if seq > expected:
                after = self._by_seq.get(expected - 1)
                where = f"after {after.position}" if after else "at the start of the chain"
                self._find(
                    "gap",
                    f"seqs {expected}..{seq - 1} missing ({where}; next is seq {seq} here)",
                    self._by_seq[seq],
                    seq=expected,
                )
            expected = seq + 1

    def _links(self) -> None:
        for seq, item in sorted(self._by_seq.items()):
            if seq == 0:
                if item.prev != GENESIS:
                    self._find("altered", "the first record does not start from genesis", item)
                continue
            before = self._by_seq.get(seq - 1)
            if before is not None and before.hash != item.prev:
                self._find(
                    "altered",
                    f"its hash is not what seq {seq} at {item.position} chained to",
                    before,
                )

    def _checkpoints(self) -> None:
        for item in self._checkpoint_items():
            raw = InboundRecord(item.position, None, item.value, item.headers)
            problem = _checkpoint_problem(raw, item.record, self._keys) if item.record else None
            if problem:
                self._find("bad_checkpoint", problem, item)

    def _anchors(self, anchors: list[_Stored]) -> None:
        last = self.report.last_seq
        for anchor in anchors:
            stored = self._by_seq.get(anchor.seq)
            if stored is not None and stored.hash != anchor.hash:
                self._find("altered", f"differs from its anchor at {anchor.position}", stored)
        if anchors:
            furthest = max(anchors, key=lambda a: a.seq)
            self.report.anchored_to = furthest.seq
            if last is None or furthest.seq > last:
                self._truncated(furthest, last)
        anchored = {a.seq for a in anchors}
        for item in self._checkpoint_items():
            if item.seq not in anchored:
                self._find("unanchored", "checkpoint has no anchor", item, error=False)

    def _truncated(self, anchor: _Stored, last: int | None) -> None:
        tail = self._by_seq.get(last) if last is not None else None
        ends = f"ends at seq {last} ({tail.position})" if tail else "has no records"
        self._find(
            "truncated",
            f"the chain {ends}, but its checkpoint at seq {anchor.seq} was anchored "
            f"at {anchor.position}",
            tail,
            seq=(last + 1) if last is not None else 0,
        )

    def _tail(self) -> None:
        if not self._by_seq:
            return
        last = self._by_seq[max(self._by_seq)]
        self.report.closed = bool(last.record and last.record.closing)
        if not self.report.closed:
            covered = self.report.anchored_to
            self._find(
                "open",
                f"no closing checkpoint; records after seq {covered} are not anchored"
                if covered is not None
                else "no closing checkpoint and no anchored checkpoint",
                last,
                error=False,
            )

    def _verified_range(self) -> None:
        errors = [f.seq for f in self.report.findings if f.error and f.seq is not None]
        if not self._by_seq:
            return
        self.report.verified_to = min(errors) - 1 if errors else max(self._by_seq)

    def _checkpoint_items(self) -> list[_Stored]:
        return [
            i
            for i in self._by_seq.values()
            if i.record is not None and i.record.step is AuditStep.CHECKPOINT
        ]
