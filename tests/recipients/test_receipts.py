"""Receipts: accepted only for a message sent to the recipient whose topic it came on."""

from __future__ import annotations

import json

import pytest

from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.runner import Effects
from hub.recipients.base import ReceiptNote
from hub.recipients.receipts import ReceiptContext, ReceiptTopics, receipt_step
from hub.routing.deliveries import StagedIndex
from schemas.errors import ContractViolation, InputRejected, Reason
from schemas.events import ConsentRecipient, ReleasePlanned
from schemas.recipients import RecipientKind
from tests.events import make_event
from tests.recipients.support import NOW, Router


def _delivered(router: Router) -> str:
    event = make_event(ReleasePlanned)
    release = event.data.release.model_copy(
        update={"residence_municipality": "0301", "consent_recipients": (ConsentRecipient.KOMMUNE,)}
    )
    event = event.model_copy(update={"data": event.data.model_copy(update={"release": release})})
    (message,) = router.route(event, RecipientKind.MUNICIPALITY).messages()
    return str(message["id"])


def _receive(router: Router, topic: str, body: dict[str, object]) -> Effects:
    ctx = ReceiptContext(
        index=StagedIndex(router.index),
        topics=ReceiptTopics(router.policy, ""),
        deliveries_topic="hub.deliveries.v1",
        alerts_topic="hub.alerts.v1",
        sign=lambda record: record,
        clock=lambda: NOW,
    )
    record = InboundRecord(Position(topic, 0, 7), None, json.dumps(body).encode())
    return receipt_step(ctx)(record)


def test_a_receipt_for_a_message_sent_to_that_recipient_is_recorded() -> None:
    router = Router()
    message_id = _delivered(router)
    effects = _receive(
        router, "receipts.municipality.0301.v1", {"messageid": message_id, "status": "processed"}
    )
    (note,) = effects.notes
    assert isinstance(note, ReceiptNote)
    assert (note.recipient, note.message_id, note.status) == (
        "municipality.0301",
        message_id,
        "processed",
    )
    assert effects.outputs


@pytest.mark.parametrize(
    ("topic", "reason"),
    [("receipts.municipality.4204.v1", Reason.WRONG_RECIPIENT), ("receipts.nav.v1", None)],
)
def test_a_receipt_from_someone_else_is_refused(topic: str, reason: Reason | None) -> None:
    router = Router()
    message_id = _delivered(router)
    with pytest.raises(ContractViolation) as caught:
        _receive(router, topic, {"messageid": message_id, "status": "received"})
    assert caught.value.reason is (reason or Reason.WRONG_RECIPIENT)


def test_an_unknown_message_and_a_malformed_receipt_are_refused() -> None:
    router = Router()
    unknown = {"messageid": "00000000-0000-4000-8000-000000000000", "status": "received"}
    with pytest.raises(ContractViolation) as caught:
        _receive(router, "receipts.nav.v1", unknown)
    assert caught.value.reason is Reason.UNKNOWN_MESSAGE
    with pytest.raises(InputRejected):
        _receive(router, "receipts.nav.v1", {"messageid": "x", "status": "read"})
