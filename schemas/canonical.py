"""RFC 8785 canonical JSON: the one spelling of a value that signatures and hashes are made over.

`rfc8785` is the reference, but it is written in Python character by character, and every
event, recipient message and audit record is encoded. For the values the hub writes, orjson
already produces the RFC 8785 bytes: with sorted keys and no whitespace, it escapes exactly `"`,
`\\`, and U+0000-U+001F (`\\b \\t \\n \\f \\r` short, the rest as lowercase `\\u00xx`), leaves
everything else as UTF-8, prints integers as digits and refuses (with `OPT_STRICT_INTEGER`)
those beyond 2**53 - 1, as RFC 8785 does, and lone surrogates. It parts from RFC 8785 on
floats (ECMAScript prints numbers its own way; NaN and infinities become `null`), on key
order where a key has a character beyond U+FFFF and another one in U+E000-U+FFFF (orjson sorts
by code point, RFC 8785 by UTF-16 code unit), and on types that are not JSON's (a UUID, a
datetime, subclasses). A value with any of those goes to `rfc8785`, which writes or refuses
it; `tests/schemas/test_canonical.py` holds the two equal on arbitrary values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import orjson
import rfc8785

__all__ = ["canonical_json"]

_OPTIONS: Final = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    # Not JSON's types: refused here, so that rfc8785 decides.
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_LEAVES: Final = frozenset({str, int, bool, type(None)})
_CONTAINERS: Final = frozenset({dict, list, tuple})
# UTF-8 lead bytes of U+E000-U+FFFF and of U+10000 and above: only where both occur can
# code point order and UTF-16 order differ.
_BMP_TOP: Final = (b"\xee", b"\xef")
_ASTRAL: Final = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")


def canonical_json(value: object) -> bytes:
    """The RFC 8785 bytes of `value` (JSON types only); `rfc8785.CanonicalizationError` for a
    value RFC 8785 cannot represent."""
    try:
        data = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        pass  # a big integer, a lone surrogate, another type: rfc8785 says so in its words
    else:
        if _plain(value) and _ordered_alike(data):
            return data
    return rfc8785.dumps(value)  # type: ignore[arg-type]  # rfc8785 checks types as it goes


def _plain(value: object) -> bool:
    """Whether `value` holds only what orjson writes as RFC 8785 does: no floats, no types
    orjson writes that JSON lacks. Keys need no look: orjson refuses any but strings."""
    items: Iterable[object]
    if type(value) is dict:
        items = value.values()
    elif type(value) is list or type(value) is tuple:
        items = value
    else:
        return type(value) in _LEAVES
    for item in items:
        kind = type(item)
        if kind not in _LEAVES and (kind not in _CONTAINERS or not _plain(item)):
            return False
    return True


def _ordered_alike(data: bytes) -> bool:
    """Whether sorting keys by code point (orjson) gave the UTF-16 order (RFC 8785)."""
    if data.isascii():
        return True
    return not (any(b in data for b in _BMP_TOP) and any(b in data for b in _ASTRAL))
