from __future__ import annotations

import dataclasses

import pytest

from adapters.context import TranslationContext


def test_the_context_is_frozen_and_positional_like_the_hub_builds_it() -> None:
    ctx = TranslationContext(str.upper, False, 1024)
    assert (ctx.allow_test_identities, ctx.max_document_bytes, ctx.correlation_id) == (
        False,
        1024,
        None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.correlation_id = "x"  # type: ignore[misc]  # the point: assignment must fail


@pytest.mark.parametrize("size", [0, -1])
def test_a_size_cap_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        TranslationContext(str.upper, True, size)
