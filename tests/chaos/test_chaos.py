"""The chaos suite's short run (`make chaos` is the full one): three brokers, two hub processes,
every kind of fault once, a few thousand documents; the independent checker finds nothing lost,
missing, unexpected or out of order, and the audit trail verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.faults import SHORT_SCHEDULE
from tests.chaos.run import ChaosPlan, run_chaos

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_a_short_chaos_run_loses_nothing(tmp_path: Path) -> None:
    plan = ChaosPlan(documents=3_000, schedule=SHORT_SCHEDULE, gap_s=2.0, drain_timeout_s=420)
    result = run_chaos(plan, tmp_path)
    assert len(result.faults) == len(SHORT_SCHEDULE)
    assert result.publisher["acknowledged"] >= plan.documents
    assert not result.hubs_exited_on_their_own
    # Two processes on one machine, each with its own HTTP server.
    assert result.metrics == {"hub-1": 200, "hub-2": 200}
    assert not result.failed, result.report.render()
