"""What the verifier keeps of every record of one writer's chain: its seq, its hash, the hash it
chains to, where it is stored and when it was written. About 90 bytes a record, in flat columns,
where the records themselves (their bytes and parsed models) took some 4 KB each: a year's trail
is checked in the memory of its hashes, not of its records.

A chain's seqs run without gaps in the normal case, so a row's place in the columns is its seq
less the first one seen. What does not fit that shape (a seq far before or beyond the run, or
hashes that are not the 64 lowercase hex digits the hub writes) is kept aside as it came, so
that a damaged or forged trail is judged on exactly what is stored.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.pipeline.records import Position

__all__ = ["Row", "Rows"]

_HASH_BYTES = 32
# Seqs this far beyond the run still extend it (the slots between stay empty); a seq further
# out, such as a forged 10**15, is kept aside instead of growing the columns to it.
_MAX_STRETCH = 4096
_NO_TIME = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    hash: str
    prev: str
    position: Position
    time: datetime | None


class Rows:
    """One writer's records by seq; each seq once (the first record stored with it)."""

    def __init__(self) -> None:
        self._base: int | None = None
        self._hashes = bytearray()
        self._prevs = bytearray()
        self._offsets = array("q")
        self._places = array("I")
        self._micros = array("q")
        self._present = bytearray()
        self._place_of: dict[tuple[str, int], int] = {}
        self._place_list: list[tuple[str, int]] = []
        self._aside: dict[int, Row] = {}
        self._count = 0
        self.first: int | None = None
        self.last: int | None = None

    def __len__(self) -> int:
        return self._count

    def __contains__(self, seq: int) -> bool:
        index = self._index(seq)
        return (index is not None and self._present[index] == 1) or seq in self._aside

    def put(self, row: Row) -> None:
        """Keep `row`, whose seq is not kept yet."""
        self._count += 1
        self.first = row.seq if self.first is None else min(self.first, row.seq)
        self.last = row.seq if self.last is None else max(self.last, row.seq)
        index = self._slot(row.seq)
        if index is None or not (_packable(row.hash) and _packable(row.prev)):
            self._aside[row.seq] = row
            return
        start = index * _HASH_BYTES
        self._hashes[start : start + _HASH_BYTES] = bytes.fromhex(row.hash)
        self._prevs[start : start + _HASH_BYTES] = bytes.fromhex(row.prev)
        self._offsets[index] = row.position.offset
        self._places[index] = self._place(row.position)
        self._micros[index] = _micros(row.time)
        self._present[index] = 1

    def get(self, seq: int) -> Row | None:
        index = self._index(seq)
        if index is None or not self._present[index]:
            return self._aside.get(seq)
        start = index * _HASH_BYTES
        topic, partition = self._place_list[self._places[index]]
        return Row(
            seq,
            self._hashes[start : start + _HASH_BYTES].hex(),
            self._prevs[start : start + _HASH_BYTES].hex(),
            Position(topic, partition, self._offsets[index]),
            _time(self._micros[index]),
        )

    def seqs(self) -> Iterator[int]:
        """Every kept seq, in order."""
        base = self._base if self._base is not None else 0
        run = (base + i for i, present in enumerate(self._present) if present)
        return heapq.merge(run, sorted(self._aside))

    def _index(self, seq: int) -> int | None:
        if self._base is None:
            return None
        index = seq - self._base
        return index if 0 <= index < len(self._present) else None

    def _slot(self, seq: int) -> int | None:
        """The column index for `seq`, the columns grown to hold it; None: keep it aside."""
        if self._base is None:
            self._base = seq
        index = seq - self._base
        if index < 0 or index >= len(self._present) + _MAX_STRETCH:
            return None
        grow = index + 1 - len(self._present)
        if grow > 0:
            self._hashes.extend(bytes(grow * _HASH_BYTES))
            self._prevs.extend(bytes(grow * _HASH_BYTES))
            self._offsets.extend([0] * grow)
            self._places.extend([0] * grow)
            self._micros.extend([_NO_TIME] * grow)
            self._present.extend(bytes(grow))
        return index

    def _place(self, position: Position) -> int:
        key = (position.topic, position.partition)
        place = self._place_of.get(key)
        if place is None:
            place = self._place_of[key] = len(self._place_list)
            self._place_list.append(key)
        return place


def _packable(digest: str) -> bool:
    # Only what comes back from the bytes exactly: an uppercase or spaced "hash" stays as stored.
    try:
        return len(digest) == 2 * _HASH_BYTES and bytes.fromhex(digest).hex() == digest
    except ValueError:
        return False


def _micros(moment: datetime | None) -> int:
    if moment is None:
        return _NO_TIME
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _time(micros: int) -> datetime | None:
    return None if micros == _NO_TIME else _EPOCH + timedelta(microseconds=micros)
