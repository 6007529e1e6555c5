"""A correction or cancellation of any event kind reaches every recipient that was told of the
original: as `correction` or `cancellation` where the new version still concerns it, as
`withdrawal` where it no longer does, each naming the message it replaces (issue 13, § 5)."""

from __future__ import annotations

from typing import Any

from schemas.events import (
    CustodyStarted,
    Envelope,
    ExecutionForm,
    JudgmentFinal,
    ReleaseCompleted,
    SentenceStarted,
    TransferCancelled,
    TransferCompleted,
    Unit,
)
from schemas.ids import canonical_id
from schemas.recipients import RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import Router

CORRECTION_ID = canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-2")


def told(router: Router, event: Envelope) -> dict[str, dict[str, Any]]:
    """Recipient → the message it got about `event`, over every recipient kind."""
    messages = [m for kind in RecipientKind for m in router.route(event, kind).messages()]
    return {m["recipient"]: m for m in messages}


def corrected(event: Envelope, data: Any) -> Any:
    return event.model_copy(
        update={
            "id": CORRECTION_ID,
            "sourceeventid": "KODA-TEST-2",
            "replaces": event.id,
            "data": data,
        }
    )


def test_a_corrected_custody_order_reaches_every_agency_that_had_it() -> None:
    router = Router()
    original = make_event(CustodyStarted)
    first = told(router, original)
    assert set(first) == {"police-register", "nav", "correctional"}
    elsewhere = original.data.custody.model_copy(
        update={"facility": Unit(code="3101", name="Halden fengsel")}
    )
    second = told(
        router, corrected(original, original.data.model_copy(update={"custody": elsewhere}))
    )
    assert set(second) == set(first)
    for recipient, message in second.items():
        assert message["action"] == "correction"
        assert message["replaces"] == original.id
        assert message["replacesmessageid"] == first[recipient]["id"]


def test_a_corrected_judgment_reaches_the_register_and_the_correctional_service() -> None:
    router = Router()
    original = make_event(JudgmentFinal)
    first = told(router, original)
    judgment = original.data.judgment.model_copy(update={"court": "Borgarting lagmannsrett"})
    second = told(
        router, corrected(original, original.data.model_copy(update={"judgment": judgment}))
    )
    assert {r: m["action"] for r, m in second.items()} == {
        "police-register": "correction",
        "correctional": "correction",
    }
    assert second["correctional"]["replacesmessageid"] == first["correctional"]["id"]


def test_a_corrected_sentence_start_reaches_the_register_and_nav() -> None:
    router = Router()
    original = make_event(SentenceStarted)
    told(router, original)
    second = told(router, corrected(original, original.data))
    assert {r: m["action"] for r, m in second.items()} == {
        "police-register": "correction",
        "nav": "correction",
    }


def _released_to(municipality: str | None) -> Any:
    data = sample_data("release", "completed")
    release = data.release.model_copy(update={"residence_municipality": municipality})
    return data.model_copy(update={"release": release})


def test_a_completed_release_corrected_away_from_a_municipality_withdraws_it_there() -> None:
    router = Router()
    original = make_event(ReleaseCompleted, data=_released_to("0301"))
    first = told(router, original)
    assert "municipality.0301" in first
    second = told(router, corrected(original, _released_to("4204")))
    assert second["municipality.0301"]["action"] == "withdrawal"
    assert "data" not in second["municipality.0301"]
    assert second["municipality.0301"]["replacesmessageid"] == first["municipality.0301"]["id"]
    assert second["municipality.4204"]["action"] == "notice"
    assert second["nav"]["action"] == "correction"


def test_a_completed_transfer_called_off_is_cancelled_for_everyone_told() -> None:
    router = Router()
    data = sample_data("transfer", "completed")
    transfer = data.transfer.model_copy(
        update={
            "to_execution_form": ExecutionForm.ELEKTRONISK_KONTROLL,
            "residence_municipality": "5001",
        }
    )
    data = data.model_copy(update={"transfer": transfer})
    original = make_event(TransferCompleted, data=data)
    first = told(router, original)
    assert set(first) == {"police-register", "nav", "municipality.5001"}
    cancel = make_event(
        TransferCancelled,
        id=CORRECTION_ID,
        sourceeventid="KODA-TEST-2",
        replaces=original.id,
        data=data,
    )
    second = told(router, cancel)
    # The person had no notice of a completed transfer: they are told of the cancellation.
    assert second.pop("person")["action"] == "notice"
    assert {r: m["action"] for r, m in second.items()} == {
        "police-register": "cancellation",
        "nav": "cancellation",
        "municipality.5001": "cancellation",
    }
    assert all(m["replacesmessageid"] == first[r]["id"] for r, m in second.items())


def test_a_withdrawal_is_not_withdrawn_again() -> None:
    # A second correction reaches those the first one still told, not those it withdrew from.
    router = Router()
    original = make_event(ReleaseCompleted, data=_released_to("0301"))
    told(router, original)
    first_fix = corrected(original, _released_to("4204"))
    told(router, first_fix)
    third_id = canonical_id("urn:no:kriminalomsorgen:koda", "KODA-TEST-3")
    second_fix = first_fix.model_copy(
        update={"id": third_id, "sourceeventid": "KODA-TEST-3", "replaces": first_fix.id}
    )
    third = told(router, second_fix)
    assert "municipality.0301" not in third
    assert third["municipality.4204"]["action"] == "correction"
