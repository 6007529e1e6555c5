"""The producer's partitioner: a person's records must go where aiokafka's (and Java's) would."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from hub.kafka.producer import KeyPartitioner

_PARTITIONS = st.lists(st.integers(0, 999), min_size=1, max_size=64, unique=True).map(sorted)


@given(keys=st.lists(st.binary(max_size=80), min_size=1, max_size=20), partitions=_PARTITIONS)
def test_every_key_goes_to_the_default_partition_however_often_it_recurs(
    keys: list[bytes], partitions: list[int]
) -> None:
    ours, default = KeyPartitioner(remembered=4), DefaultPartitioner()

    for key in keys + keys[::-1] + keys:
        assert ours(key, partitions, partitions) == default(key, partitions, partitions)


def test_a_known_key_goes_to_the_partition_javas_client_gives_it() -> None:
    # murmur2 of b"foobar" is the Java client's test vector -790332482.
    assert KeyPartitioner()(b"foobar", list(range(1000)), []) == (-790332482 & 0x7FFFFFFF) % 1000


@given(partitions=_PARTITIONS)
def test_a_record_without_a_key_goes_to_an_available_partition(partitions: list[int]) -> None:
    available = partitions[: max(1, len(partitions) // 2)]

    assert KeyPartitioner()(None, partitions, available) in available
