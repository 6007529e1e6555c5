"""The municipality register: which numbers are in use, and what became of retired ones.

Municipalities merge and split (reforms of 2020 and 2024), and a source system may still send
a retired number. `resolve` follows a retired number through its successors to the one number
in use now; a number that split into several (or whose successor the register lacks) resolves
to nothing, because guessing where a person lives is not the hub's to do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.reference._csv import ReferenceError, read_rows
from schemas.errors import ContractViolation, Reason

__all__ = ["Municipality", "MunicipalityRegister", "Resolved"]

_COLUMNS = ("code", "name", "status", "successors", "changed", "source")
_CODE = re.compile(r"^(0[1-9]|[1-9][0-9])[0-9]{2}$")
_MAX_HOPS = 10


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name: str
    current: bool
    successors: tuple[str, ...] = ()
    changed: dt.date | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A number as given, and the municipality it stands for now."""

    given: str
    current: Municipality

    @property
    def redirected(self) -> bool:
        return self.given != self.current.code


class MunicipalityRegister:
    def __init__(self, entries: dict[str, Municipality]) -> None:
        self._entries = entries
        self._check_successors()

    @classmethod
    def load(cls, path: Path) -> MunicipalityRegister:
        entries: dict[str, Municipality] = {}
        for number, row in read_rows(path, _COLUMNS):
            entry = _entry(path, number, row)
            if entry.code in entries:
                raise ReferenceError(f"{path}:{number}: municipality {entry.code} listed twice")
            entries[entry.code] = entry
        return cls(entries)

    def __contains__(self, code: object) -> bool:
        return code in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Municipality]:
        """Every entry, current and retired, in number order."""
        return iter(sorted(self._entries.values(), key=lambda m: m.code))

    def get(self, code: str) -> Municipality | None:
        return self._entries.get(code)

    def current(self) -> list[Municipality]:
        return sorted((m for m in self._entries.values() if m.current), key=lambda m: m.code)

    def resolve(self, code: str) -> Resolved:
        """The municipality `code` stands for now; `ContractViolation(unknown_municipality)`."""
        seen = code
        entry = self._entries.get(code)
        for _ in range(_MAX_HOPS):
            if entry is None:
                raise _unknown(code, f"municipality number {seen} is not in the register")
            if entry.current:
                return Resolved(code, entry)
            if len(entry.successors) != 1:
                raise _unknown(code, _why_unresolved(code, entry))
            seen = entry.successors[0]
            entry = self._entries.get(seen)
        raise _unknown(code, f"municipality number {code}: successors form a loop")

    def _check_successors(self) -> None:
        for entry in self._entries.values():
            missing = [s for s in entry.successors if s not in self._entries]
            if missing:
                raise ReferenceError(
                    f"municipality {entry.code}: successor {missing[0]} is not in the register"
                )


def _entry(path: Path, number: int, row: dict[str, str]) -> Municipality:
    where = f"{path}:{number}"
    code, status = row["code"], row["status"]
    if not _CODE.fullmatch(code):
        raise ReferenceError(f"{where}: {code!r} is not a municipality number")
    if status not in ("current", "retired") or not row["name"] or not row["source"]:
        raise ReferenceError(f"{where}: needs a name, a source and status current or retired")
    successors = tuple(row["successors"].split())
    if status == "current" and successors:
        raise ReferenceError(f"{where}: a current municipality has no successors")
    try:
        changed = dt.date.fromisoformat(row["changed"]) if row["changed"] else None
    except ValueError as exc:
        raise ReferenceError(f"{where}: changed must be a date (YYYY-MM-DD)") from exc
    return Municipality(code, row["name"], status == "current", successors, changed, row["source"])


def _why_unresolved(given: str, entry: Municipality) -> str:
    # A merged number can lead to one that later split (1534 -> 1507 -> 1508 and 1580).
    subject = f"municipality number {entry.code}"
    if given != entry.code:
        subject = f"municipality number {given} leads to {entry.code}, which"
    if entry.successors:
        return (
            f"{subject} was split into {', '.join(entry.successors)}: "
            "the source must send the current number"
        )
    return f"{subject} is retired and its successor is not in the register"


def _unknown(code: str, detail: str) -> ContractViolation:
    return ContractViolation(detail, reason=Reason.UNKNOWN_MUNICIPALITY)
