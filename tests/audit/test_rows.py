"""The verifier's compact rows give back exactly what was put, as a dict of whole rows would:
hashes, positions and times, in and out of the chain's run, canonical or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from hub.audit.rows import Row, Rows
from hub.pipeline.records import Position

_HEX = "0123456789abcdef"
# What the hub writes, and what a damaged or forged record may carry instead.
_digests = st.one_of(
    st.text(_HEX, min_size=64, max_size=64),
    st.text(_HEX + "ABCDEF ", min_size=0, max_size=70),
)
_times = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5))]
        ),
    ),
)
_positions = st.builds(
    Position,
    topic=st.sampled_from(["hub.audit.v1", "other.audit"]),
    partition=st.integers(0, 70_000),
    offset=st.integers(0, 2**62),
)
# Mostly a run near the first seq, with seqs before it and far beyond it now and then.
_seqs = st.one_of(st.integers(0, 300), st.integers(0, 10**15))
_Put = tuple[int, str, str, Position, datetime | None]


@given(
    st.lists(
        st.tuples(_seqs, _digests, _digests, _positions, _times),
        max_size=60,
        unique_by=lambda row: row[0],
    )
)
def test_rows_give_back_what_was_put(
    puts: list[tuple[int, str, str, Position, datetime | None]],
) -> None:
    rows, model = Rows(), dict[int, Row]()
    for seq, digest, prev, position, time in puts:
        row = Row(seq, digest, prev, position, time)
        rows.put(row)
        model[seq] = row
    assert len(rows) == len(model)
    assert list(rows.seqs()) == sorted(model)
    assert (rows.first, rows.last) == ((min(model), max(model)) if model else (None, None))
    for seq, row in model.items():
        assert seq in rows
        assert rows.get(seq) == row  # aware times compare as instants
        assert (rows.get(seq - 1) is None) == (seq - 1 not in model)
    assert 10**16 not in rows
    assert rows.get(10**16) is None


def test_a_hash_not_in_the_hubs_form_is_kept_as_stored() -> None:
    # Upper case decodes to the same bytes as lower case; keeping bytes would make an
    # uppercase prev match the hash it imitates, and hide an altered link.
    rows = Rows()
    upper = "AB" * 32
    rows.put(Row(0, "ab" * 32, upper, Position("t", 0, 0), None))
    kept = rows.get(0)
    assert kept is not None
    assert (kept.hash, kept.prev) == ("ab" * 32, upper)
