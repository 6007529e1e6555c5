from __future__ import annotations

import pytest

from hub.web.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)


def test_tokens_never_pile_up_beyond_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, 2, clock=clock)
    clock.now += 3600
    assert [bucket.take() for _ in range(3)][-1] > 0


def test_a_refusal_spends_nothing() -> None:
    clock = Clock()
    bucket = TokenBucket(1.0, 1, clock=clock)
    bucket.take()
    assert bucket.take() == pytest.approx(1.0)
    clock.now += 0.25
    assert bucket.take() == pytest.approx(0.75)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        TokenBucket(rate, burst)
