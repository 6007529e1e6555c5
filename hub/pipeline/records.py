"""The records a stage reads and writes, independent of any Kafka client library."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Delivery",
    "Headers",
    "InboundRecord",
    "OutboundRecord",
    "Position",
    "find_header",
    "text_headers",
]

# Kept as bytes so a dead-letter entry can carry an input's headers exactly as they arrived.
# Every header the hub itself writes is UTF-8 text (see `text_headers`).
Headers = tuple[tuple[str, bytes], ...]


def find_header(headers: Headers, name: str) -> str | None:
    """The last value of header `name` as text, or None (undecodable bytes are replaced)."""
    for key, value in reversed(headers):
        if key == name:
            return value.decode("utf-8", errors="replace")
    return None


def text_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    return tuple((name, value.encode("utf-8")) for name, value in pairs)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits on the broker."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One record a stage consumed, exactly as the broker gave it."""

    position: Position
    key: bytes | None
    value: bytes
    headers: Headers = ()
    timestamp_ms: int = 0

    @classmethod
    def from_consumer_record(cls, record: Any) -> InboundRecord:
        """Copy an aiokafka `ConsumerRecord` (untyped library object) into our own type."""
        headers = record.headers
        if not all(type(k) is str and type(v) is bytes for k, v in headers):
            # A header without a value (Kafka allows it) becomes an empty one.
            headers = [(str(k), bytes(v or b"")) for k, v in headers]
        return cls(
            Position(record.topic, record.partition, record.offset),
            record.key,
            record.value if record.value is not None else b"",
            tuple(headers),
            int(record.timestamp),
        )

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """One record a stage asks to publish. Nothing is committed until it is acknowledged."""

    topic: str
    key: bytes | None
    # None only for a tombstone on a compacted state topic.
    value: bytes | None
    headers: Headers = ()

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbound record and where the broker stored it."""

    record: OutboundRecord
    position: Position
