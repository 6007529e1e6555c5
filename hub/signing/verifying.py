"""Verifying signed records inside the hub: what a stage that consumes signed messages wraps
its step in, so that a record failing verification is dead-lettered and never acted upon."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from hub.pipeline import headers as h
from hub.pipeline.records import Headers, InboundRecord, OutboundRecord
from schemas.signature import PublicKeys, UnknownKey, VerifiedClaims, verify

__all__ = ["TrustedKeys", "raw_header", "verify_record", "verifying"]

Step = Callable[[InboundRecord], Sequence[OutboundRecord]]


class TrustedKeys:
    """The public keys a stage trusts, re-read when a signature names a kid not seen yet.

    Another process may rotate the key while this one runs; the first record signed with the
    new key makes us look again (at most every `min_reload_s`, so a flood of records with a
    made-up kid cannot make us read the disk for each one).
    """

    def __init__(self, load: Callable[[], PublicKeys], *, min_reload_s: float = 5.0) -> None:
        self._load = load
        self._min_reload_s = min_reload_s
        self._keys = load()
        self._loaded_at = time.monotonic()

    @property
    def keys(self) -> PublicKeys:
        return self._keys

    def reload(self) -> bool:
        """Read the keys again unless that was done a moment ago; True when it was done now."""
        if time.monotonic() - self._loaded_at < self._min_reload_s:
            return False
        self._keys = self._load()
        self._loaded_at = time.monotonic()
        return True


def raw_header(headers: Headers, name: str) -> bytes | None:
    """The last value of header `name`, as bytes."""
    for key, value in reversed(headers):
        if key == name:
            return value
    return None


def verify_record(record: InboundRecord, trusted: TrustedKeys | PublicKeys) -> VerifiedClaims:
    """Verify the hub's signature on `record`, bound to its own id and type headers."""
    keys = trusted.keys if isinstance(trusted, TrustedKeys) else trusted

    def check(with_keys: PublicKeys) -> VerifiedClaims:
        return verify(
            record.value,
            raw_header(record.headers, h.SIGNATURE),
            with_keys,
            expected_id=record.header(h.EVENT_ID),
            expected_type=record.header(h.EVENT_TYPE),
        )

    try:
        return check(keys)
    except UnknownKey:
        if isinstance(trusted, TrustedKeys) and trusted.reload():
            return check(trusted.keys)
        raise


def verifying(step: Step, trusted: TrustedKeys | PublicKeys) -> Step:
    """`step`, run only on records whose signature verifies.

    A record that fails raises its `SignatureRejected` (`bad_signature` or `unknown_key`): the
    runner dead-letters it, and the step never sees it, so it is never forwarded.
    """

    def verified_step(record: InboundRecord) -> Sequence[OutboundRecord]:
        verify_record(record, trusted)
        return step(record)

    return verified_step
