"""Anchors an auditor keeps outside the cluster: the latest signed checkpoint of every writer.

`hub audit anchor export FILE` writes them; `hub audit verify --anchors FILE` proves the trail was
neither cut nor rewritten before them: every writer in the file is on the trail, and its chain
reaches the anchored checkpoint with the same hash. The file is JSON:

    {"format": 1, "exported": "<UTC time>", "topic": "hub.audit.v1",
     "anchors": [{"writer": ..., "seq": ..., "hash": "<SHA-256 hex of the record>",
                  "time": "<the record's time>", "position": "<topic[partition]@offset>",
                  "record": "<base64 of the record's exact bytes>",
                  "signature": "<its hub-signature header>"}, ...]}

It carries each checkpoint's bytes and signature, so the file checks itself against the JWKS:
an edited file is refused, not trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AnchorFileError", "PinnedCheckpoint", "read_anchor_file", "write_anchor_file"]

_FORMAT = 1


class AnchorFileError(ValueError):
    """The file is not an anchor file the hub wrote (its signatures are checked elsewhere)."""


@dataclass(frozen=True, slots=True)
class PinnedCheckpoint:
    """A signed checkpoint as it was on the trail when it was exported."""

    writer: str
    seq: int
    hash: str
    time: datetime
    position: str
    value: bytes
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {
            "writer": self.writer,
            "seq": self.seq,
            "hash": self.hash,
            "time": self.time.isoformat(),
            "position": self.position,
            "record": base64.b64encode(self.value).decode("ascii"),
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any) -> PinnedCheckpoint:
        try:
            return cls(
                writer=str(data["writer"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                time=datetime.fromisoformat(data["time"]),
                position=str(data["position"]),
                value=base64.b64decode(data["record"], validate=True),
                signature=str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise AnchorFileError(f"an anchor is malformed: {exc}") from exc


def write_anchor_file(
    path: Path, anchors: Sequence[PinnedCheckpoint], *, topic: str, exported: datetime
) -> None:
    """Write `anchors` to `path`, replacing it whole (never half-written)."""
    data = {
        "format": _FORMAT,
        "exported": exported.astimezone(UTC).isoformat(),
        "topic": topic,
        "anchors": [a.to_json() for a in anchors],
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_anchor_file(path: Path) -> list[PinnedCheckpoint]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnchorFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise AnchorFileError(f"{path} is not an anchor file of format {_FORMAT}")
    entries = data.get("anchors")
    if not isinstance(entries, list):
        raise AnchorFileError(f"{path} has no list of anchors")
    return [PinnedCheckpoint.from_json(e) for e in entries]
