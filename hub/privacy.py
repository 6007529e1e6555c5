"""Personal data: the pseudonymous person key, and masking of text that may hold identity data.

The person key is a keyed HMAC-SHA256 of the identity number. A plain hash would not do: there are
only a few million valid 11-digit identity numbers, so anyone could hash them all in seconds and
reverse it. Without the key, the HMAC cannot be enumerated.

`mask_text` is the one place that masks free text; what counts as an identity number (however
spaced or punctuated) is `schemas.identity.identity_number_spans`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from schemas.identity import identity_number_spans

__all__ = ["MASK", "PersonKeys", "mask_text"]

# Validators quote the offending value ("The value 'Kari' is not ..."): it may be a name. A quote
# that never closes (libxml2 cuts long messages) hides everything after it.
_QUOTED_VALUE: Final = re.compile(
    r"""(value|Value|input_value=|got)\s*(['"])(.*?)(?:\2|\Z)""", re.DOTALL
)
MASK: Final = "***********"


def mask_text(text: str) -> str:
    """`text` with every identity number, however spaced, and every quoted input value masked."""
    text = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)} {m.group(2)}***{m.group(2)}", text)
    spans = list(identity_number_spans(text))
    for start, end in reversed(spans):
        text = text[:start] + MASK + text[end:]
    return text


class PersonKeys:
    """Turns an identity number into the pseudonymous key used as Kafka key and event subject."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the person key secret must be at least 16 bytes")
        self._secret = secret

    def __call__(self, identity_number: str) -> str:
        digest = hmac.new(self._secret, identity_number.encode("ascii"), hashlib.sha256)
        # 128 bits: collision-free at any population, and short enough for keys and URLs.
        return "pk-" + digest.hexdigest()[:32]
