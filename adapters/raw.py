"""The first checks of every source document, whatever its format: size, emptiness, UTF-8.

Shared by the XML gate and the JSON gate so that a document is refused for the same reason with
the same code whichever source sent it. Each check reads no more of the bytes than it must.
"""

from __future__ import annotations

from schemas.errors import InputRejected, Reason

__all__ = ["check_not_empty", "check_raw", "check_size", "check_utf8"]


def check_raw(raw: bytes, *, max_bytes: int) -> None:
    """Size cap (before anything reads the bytes), not empty, valid UTF-8: in that order."""
    check_size(raw, max_bytes)
    check_not_empty(raw)
    check_utf8(raw)


def check_size(raw: bytes, max_bytes: int) -> None:
    if len(raw) > max_bytes:
        raise InputRejected(
            f"document is {len(raw)} bytes, the limit is {max_bytes}", reason=Reason.TOO_LARGE
        )


def check_not_empty(raw: bytes) -> None:
    if not raw.strip():
        raise InputRejected("document is empty", reason=Reason.EMPTY_DOCUMENT)


def check_utf8(raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected(
            f"document is not valid UTF-8 (first bad byte at offset {exc.start})",
            reason=Reason.INVALID_ENCODING,
        ) from exc
