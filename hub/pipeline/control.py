"""Which of an input's `hub-*` headers a stage may act on: only what the hub itself sealed.

Replays and release control records steer parking (`hub.pipeline.parking`): `hub-replay-of`
lets a person's blocking input through, `hub-control: release` frees the person, and
`hub-replay-group` decides which stage takes the record. Dead-letter ids can be computed from a
record's position, so a header alone proves nothing: anyone who can write the input topic could
release what is parked. The operator tools therefore seal what they send (`seal`): the hub's
Ed25519 key signs the steering headers together with the record's key and a digest of its value,
and a stage acts on steering headers only when that seal verifies with the hub's keys.

On a topic that sources or recipients write (the inbound topics, the receipts), no `hub-*`
header is the hub's unless sealed, so `Screen` removes every other one before the stage, the
dead-letter entry or the audit trail sees the record. What it removed or could not trust is
named in the outcome, and the audit trail records the attempt.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from hub.pipeline import headers as h
from hub.pipeline.records import Headers, InboundRecord, find_header
from hub.signing.signer import Signer
from hub.signing.verifying import TrustedKeys, raw_header
from schemas.errors import SignatureRejected
from schemas.signature import PublicKeys, UnknownKey, verify

__all__ = ["CONTROL_TYPE", "Screen", "Screened", "Steering", "seal"]

# The `hub_type` a seal is bound to, so that no other signature of the hub passes for one.
CONTROL_TYPE = "no.justishub.control.v1"


@dataclass(frozen=True, slots=True)
class Steering:
    """The verified steering headers of a replay or control record."""

    replay_of: str
    group: str | None
    control: str | None


@dataclass(frozen=True, slots=True)
class Screened:
    """An input as the stage may see it, what steers it, and the headers it was not given."""

    record: InboundRecord
    steering: Steering | None = None
    refused: tuple[str, ...] = ()


def seal(headers: Headers, key: bytes | None, value: bytes, signer: Signer) -> Headers:
    """`headers` with the hub's seal over their steering headers, `key` and `value`."""
    replay_of = find_header(headers, h.REPLAY_OF)
    if not replay_of:
        raise ValueError(f"a record to seal names the entry it is about in {h.REPLAY_OF}")
    kept = tuple((k, v) for k, v in headers if k != h.REPLAY_SEAL)
    signature = signer.sign(
        _sealed_bytes(kept, key, value), message_id=replay_of, message_type=CONTROL_TYPE
    )
    return (*kept, (h.REPLAY_SEAL, signature.encode("ascii")))


class Screen:
    """What a stage takes of its inputs' `hub-*` headers.

    `untrusted_topic`: the stage's input topic is written by others than the hub, so every
    `hub-*` header that is not under a valid seal is removed. On the hub's own topics only the
    unsealed steering headers are.
    """

    def __init__(self, trusted: TrustedKeys | PublicKeys, *, untrusted_topic: bool) -> None:
        self._trusted = trusted
        self._untrusted_topic = untrusted_topic

    def screen(self, record: InboundRecord) -> Screened:
        steering = self._verified(record)

        def refused_header(name: str) -> bool:
            if steering is not None:
                return not _steers(name) and self._foreign(name)
            return _steers(name) or self._foreign(name)

        refused = tuple(dict.fromkeys(k for k, _ in record.headers if refused_header(k)))
        if not refused:
            return Screened(record, steering)
        kept = tuple((k, v) for k, v in record.headers if not refused_header(k))
        screened = InboundRecord(
            record.position, record.key, record.value, kept, record.timestamp_ms
        )
        return Screened(screened, steering, refused)

    def _foreign(self, name: str) -> bool:
        return self._untrusted_topic and name.startswith(h.HUB_PREFIX)

    def _verified(self, record: InboundRecord) -> Steering | None:
        seal_header = raw_header(record.headers, h.REPLAY_SEAL)
        replay_of = record.header(h.REPLAY_OF)
        if seal_header is None or not replay_of:
            return None
        unsealed = tuple((k, v) for k, v in record.headers if k != h.REPLAY_SEAL)
        if not self._holds(
            _sealed_bytes(unsealed, record.key, record.value), seal_header, replay_of
        ):
            return None
        return Steering(replay_of, record.header(h.REPLAY_GROUP), record.header(h.CONTROL))

    def _holds(self, payload: bytes, seal_header: bytes, replay_of: str) -> bool:
        trusted = self._trusted
        keys = trusted.keys if isinstance(trusted, TrustedKeys) else trusted
        try:
            verify(payload, seal_header, keys, expected_id=replay_of, expected_type=CONTROL_TYPE)
        except UnknownKey:
            # A key rotated by another process since the keys were last read (re-read at most
            # every few seconds, so this ends).
            reloaded = isinstance(trusted, TrustedKeys) and trusted.reload()
            return reloaded and self._holds(payload, seal_header, replay_of)
        except SignatureRejected:
            return False
        return True


def _steers(name: str) -> bool:
    return name.startswith(h.REPLAY_PREFIX) or name == h.CONTROL


def _sealed_bytes(headers: Sequence[tuple[str, bytes]], key: bytes | None, value: bytes) -> bytes:
    """The one byte order a seal covers: the steering headers in order, the key, the value."""
    steering = [[k, base64.b64encode(v).decode("ascii")] for k, v in headers if _steers(k)]
    document = {
        "headers": steering,
        "key": base64.b64encode(key).decode("ascii") if key is not None else None,
        "value_sha256": hashlib.sha256(value).hexdigest(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")
