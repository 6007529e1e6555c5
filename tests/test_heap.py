"""The collector settings of a running hub (`hub run`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hub import heap


@pytest.fixture
def collector() -> Iterator[None]:
    """The test process's own collector, as it was, after each test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_tune_scans_the_young_generation_less_often_and_keeps_the_older_ratios() -> None:
    gc.set_threshold(700, 10, 10)

    heap.tune()

    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("collector")
def test_settle_keeps_what_start_up_made_out_of_later_scans_but_not_its_garbage() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    kept = Node()
    garbage = Node()
    collected: list[int] = []
    gc.callbacks.append(lambda phase, info: collected.append(info["collected"]))
    del garbage
    try:
        heap.settle()
    finally:
        gc.callbacks.pop()

    assert sum(collected) >= 1  # the cycle start-up left behind went, not frozen with the rest
    assert gc.get_freeze_count() > 0
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: in no generation scanned
