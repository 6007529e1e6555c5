"""The runner of a stage that keeps delivery state: catch up, run, then keep or drop the state.

Before each batch the stage waits until its view of the deliveries topic holds everything on
it (another process may have written it). The state a batch stages becomes part of the view
only when the batch's outputs, state records included, are acknowledged, and only the state of
inputs that went through: an input dead-lettered because an output was refused has none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hub.pipeline.records import InboundRecord
from hub.pipeline.runner import RecordOutcome, StageRunner
from hub.routing.consent import StagedConsent
from hub.routing.deliveries import StagedIndex

__all__ = ["IndexedRunner"]


class IndexedRunner(StageRunner):
    def __init__(
        self,
        *,
        index: StagedIndex,
        consent: StagedConsent | None = None,
        catch_up: Callable[[], Awaitable[None]],
        **runner: Any,
    ) -> None:
        super().__init__(**runner)
        self._index = index
        self._consent = consent
        self._catch_up = catch_up

    async def run_batch(self, records: Sequence[InboundRecord]) -> list[RecordOutcome]:
        await self._catch_up()
        try:
            outcomes = await super().run_batch(records)
        except BaseException:
            self._index.rollback()
            if self._consent is not None:
                self._consent.rollback()
            raise
        self._index.commit(d.record for o in outcomes if not o.dead_lettered for d in o.deliveries)
        if self._consent is not None:
            self._consent.commit()
        return outcomes
