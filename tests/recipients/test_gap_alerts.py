"""Alerts for the gaps themselves (issue 13, § 6): a release completed with no planned notice to
the municipality before it, and a plan that names no municipality, open until one is known."""

from __future__ import annotations

import json
from typing import Any

from hub.recipients.alerts import fold_alerts
from schemas.alerts import AlertState
from schemas.events import ExecutionForm, ReleaseCompleted, ReleasePlanned, TransferPlanned
from schemas.ids import canonical_id
from schemas.recipients import RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import Router


def alerts(outputs: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in outputs if r.topic == "hub.alerts.v1"]


def release(cls: Any, municipality: str | None, **overrides: Any) -> Any:
    data = sample_data("release", "planned")
    changed = data.release.model_copy(update={"residence_municipality": municipality})
    return make_event(cls, data=data.model_copy(update={"release": changed}), **overrides)


def test_a_release_completed_with_no_planned_notice_raises_no_prior_notice() -> None:
    routed = Router().route(release(ReleaseCompleted, "0301"), RecipientKind.MUNICIPALITY)
    (message,) = routed.messages()
    (alert,) = alerts(routed.outputs)
    assert (alert["kind"], alert["state"], alert["messageid"]) == (
        "no_prior_notice",
        "raised",
        message["id"],
    )
    assert alert["recipient"] == "municipality.0301"


def test_a_release_announced_before_it_is_completed_raises_none() -> None:
    router = Router()
    router.route(release(ReleasePlanned, "0301"), RecipientKind.MUNICIPALITY)
    completed = release(
        ReleaseCompleted,
        "0301",
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-9"),
        sourceeventid="KODA-TEST-9",
    )
    routed = router.route(completed, RecipientKind.MUNICIPALITY)
    assert [a["kind"] for a in alerts(routed.outputs)] == []


def test_a_plan_with_no_municipality_raises_no_municipality_until_one_is_named() -> None:
    router = Router()
    planned = release(ReleasePlanned, None)
    refused = router.route(planned, RecipientKind.MUNICIPALITY)
    (note,) = refused.notes
    assert note.reason == "no_residence_municipality"
    (raised,) = alerts(refused.outputs)
    assert (raised["kind"], raised["messageid"], raised["state"]) == (
        "no_municipality",
        planned.id,
        "raised",
    )
    fixed = release(
        ReleasePlanned,
        "5001",
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-2"),
        sourceeventid="KODA-TEST-2",
        replaces=planned.id,
    )
    named = router.route(fixed, RecipientKind.MUNICIPALITY)
    assert [m["recipient"] for m in named.messages()] == ["municipality.5001"]
    states = fold_alerts(
        [r.value for r in refused.outputs + named.outputs if r.topic == "hub.alerts.v1"]
    )
    (alert,) = [a for a in states if a.kind == "no_municipality"]
    assert (alert.state, alert.resolution) == (AlertState.RESOLVED, "municipality_named")


def test_only_plans_that_concern_a_municipality_raise_it() -> None:
    router = Router()
    for form, expected in (
        (ExecutionForm.FENGSEL_HOY, []),
        (ExecutionForm.ELEKTRONISK_KONTROLL, ["no_municipality"]),
    ):
        data = sample_data("transfer", "planned")
        transfer = data.transfer.model_copy(update={"to_execution_form": form})
        event = make_event(TransferPlanned, data=data.model_copy(update={"transfer": transfer}))
        routed = router.route(event, RecipientKind.MUNICIPALITY)
        assert [a["kind"] for a in alerts(routed.outputs)] == expected, form
    # Other recipients never raise it.
    routed = router.route(release(ReleasePlanned, None), RecipientKind.HEALTH)
    assert alerts(routed.outputs) == []


def test_a_correction_of_a_plan_a_municipality_had_resolves_nothing() -> None:
    router = Router()
    planned = release(ReleasePlanned, "0301")
    router.route(planned, RecipientKind.MUNICIPALITY)
    moved = release(
        ReleasePlanned,
        "5001",
        id=canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-2"),
        sourceeventid="KODA-TEST-2",
        replaces=planned.id,
    )
    routed = router.route(moved, RecipientKind.MUNICIPALITY)
    assert [a["kind"] for a in alerts(routed.outputs)] == []
