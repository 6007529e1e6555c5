"""RFC 8785 canonical JSON: the one spelling of a value that signatures and hashes are made over.

`rfc8785` is the reference, but it is written in Python character by character, and the bench
found it the largest single cost per record (every event, recipient message and audit record is
encoded). For the values the hub writes, the standard library's C encoder already produces the
RFC 8785 bytes: both escape exactly `"`, `\\` and U+0000-U+001F, the same way (`\\n`, `\\u001f`),
and leave everything else as UTF-8. They differ only on floats (ECMAScript prints numbers its
own way), on integers beyond 2**53 (RFC 8785 refuses them), on key order when keys are not
ASCII (UTF-16 code units against code points) and on lone surrogates. A value with any of those
goes to `rfc8785`; `tests/schemas/test_canonical.py` checks the two agree on arbitrary values.
"""

from __future__ import annotations

import json
from typing import Final

import rfc8785

__all__ = ["canonical_json"]

_SAFE_INTEGER: Final = 2**53 - 1

_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
    check_circular=False,  # values come from model dumps: trees, never cycles
)


def canonical_json(value: object) -> bytes:
    """The RFC 8785 bytes of `value` (JSON types only); `rfc8785.CanonicalizationError` for a
    value RFC 8785 cannot represent."""
    if _plain(value):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 refuses it in its own words below
    return rfc8785.dumps(value)  # type: ignore[arg-type]  # rfc8785 checks types as it goes


def _plain(value: object) -> bool:
    """Whether the standard library's encoding of `value` is already the canonical one."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, int):  # bool included: `true`/`false` either way
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and key.isascii() and _plain(item) for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    return False  # floats and anything else: rfc8785 decides
