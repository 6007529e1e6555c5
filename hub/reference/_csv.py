"""The register files' shape: CSV with `#` comment lines (the citations) above the header."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ReferenceError", "read_rows"]


class ReferenceError(ValueError):
    """A register file that cannot be used: the message names the file and the row."""


def read_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of `path`, whose header must be `columns`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: cannot read: {exc}") from exc
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line and not line.startswith("#")]
    if not numbered:
        raise ReferenceError(f"{path}: no header row")
    reader = csv.reader(line for _, line in numbered)
    header = tuple(next(reader))
    if header != columns:
        raise ReferenceError(f"{path}: header must be {','.join(columns)}")
    for (number, _), values in zip(numbered[1:], reader, strict=True):
        if len(values) != len(columns):
            raise ReferenceError(f"{path}:{number}: expected {len(columns)} columns")
        yield number, dict(zip(columns, (v.strip() for v in values), strict=True))
