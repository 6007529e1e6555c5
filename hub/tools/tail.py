"""`hub tail`: what is on a topic, decoded, from the beginning."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from hub.pipeline.records import InboundRecord
from hub.signing.verifying import verify_record
from schemas.errors import SignatureRejected
from schemas.signature import PublicKeys

__all__ = ["Verdict", "as_json", "as_text", "signature_verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a record's signature verified, and under which key."""

    verified: bool
    kid: str | None
    reason: str | None = None
    detail: str | None = None

    def line(self) -> str:
        if self.verified:
            return f"   ✓ signature verified (kid {self.kid})"
        return f"   ✗ signature refused: {self.reason}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "kid": self.kid, "reason": self.reason}


def signature_verdict(record: InboundRecord, keys: PublicKeys) -> Verdict:
    try:
        claims = verify_record(record, keys)
    except SignatureRejected as exc:
        return Verdict(False, None, exc.reason.value, exc.detail)
    return Verdict(True, claims.kid)


def _decoded_value(value: bytes) -> Any:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _headers(record: InboundRecord) -> dict[str, str]:
    return {k: v.decode("utf-8", errors="replace") for k, v in record.headers}


def as_json(record: InboundRecord, **extra: Any) -> str:
    """One line of JSON per record, for scripts."""
    pos = record.position
    return json.dumps(
        {
            "topic": pos.topic,
            "partition": pos.partition,
            "offset": pos.offset,
            "timestamp_ms": record.timestamp_ms,
            "key": record.key.decode("utf-8", errors="replace") if record.key else None,
            "headers": _headers(record),
            "value": _decoded_value(record.value),
            **extra,
        },
        ensure_ascii=False,
    )


def as_text(record: InboundRecord, *extra_lines: str) -> str:
    """A readable block per record, for people."""
    key = record.key.decode("utf-8", errors="replace") if record.key else "-"
    lines = [f"── {record.position}  key={key}", *extra_lines]
    lines += [f"   {name}: {value}" for name, value in _headers(record).items()]
    value = _decoded_value(record.value)
    body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
    lines.append(body.rstrip())
    return "\n".join(lines)
