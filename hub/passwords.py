"""Operators' console passwords, hashed with Argon2id (argon2-cffi) as PHC strings.

A PHC string carries its own salt and cost parameters, so hashes made with stronger parameters
later still verify beside older ones. Verifying is deliberately slow (tens of milliseconds and
64 MiB): callers in the event loop run it in a thread.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "verify_password"]


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's low-memory recommendation (t=3, m=64 MiB, p=4).
    return PasswordHasher()


def hash_password(password: str) -> str:
    """A new PHC string for `password`, with a fresh random salt."""
    if not password:
        raise ValueError("a password cannot be empty")
    return _hasher().hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """True when `password` is the one `hashed` was made from; False for anything else,
    including a string that is no Argon2 hash at all."""
    try:
        return _hasher().verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
