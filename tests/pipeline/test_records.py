"""A consumed record becomes our own type: its headers as the broker gave them."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from hub.pipeline.records import InboundRecord, Position


def consumed(headers: list[tuple[str, bytes | None]], value: bytes | None = b"v") -> object:
    return ConsumerRecord(
        "in.koda.v1", 2, 7, 1_700_000_000_000, 0, b"k", value, None, 1, 1, headers
    )


def test_a_consumed_record_keeps_its_headers_in_order() -> None:
    record = InboundRecord.from_consumer_record(consumed([("a", b"1"), ("b", b"2"), ("a", b"3")]))
    assert record.position == Position("in.koda.v1", 2, 7)
    assert (record.key, record.value, record.timestamp_ms) == (b"k", b"v", 1_700_000_000_000)
    assert record.headers == (("a", b"1"), ("b", b"2"), ("a", b"3"))
    assert record.header("a") == "3"


def test_a_header_without_a_value_and_a_record_without_one_become_empty() -> None:
    record = InboundRecord.from_consumer_record(consumed([("a", None), ("b", b"2")], value=None))
    assert record.headers == (("a", b""), ("b", b"2"))
    assert record.value == b""
