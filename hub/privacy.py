"""Personal data: the pseudonymous person key, and masking of text that may hold identity data.

The person key is a keyed HMAC-SHA256 of the identity number. A plain hash would not do: there are
only a few million valid 11-digit identity numbers, so anyone could hash them all in seconds and
reverse it. Without the key, the HMAC cannot be enumerated.
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["PersonKeys", "mask_text"]

_IDENTITY_NUMBER = re.compile(r"(?<!\d)\d{11}(?!\d)")
# Validators quote the offending value ("The value 'Kari' is not ..."): it may be a name.
_QUOTED_VALUE = re.compile(r"""(value|Value|input_value=|got)\s*(['"])(.*?)\2""")
_MASK = "***********"


def mask_text(text: str) -> str:
    """Mask every run of 11 digits and every quoted input value in `text`."""
    text = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)} {m.group(2)}***{m.group(2)}", text)
    return _IDENTITY_NUMBER.sub(_MASK, text)


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
