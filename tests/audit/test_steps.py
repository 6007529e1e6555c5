"""What a stage's batch puts on record, from the runner's outcomes."""

from __future__ import annotations

from collections.abc import Sequence

from hub.audit.steps import audit_hook, outcome_facts
from hub.audit.writer import MemoryChainLog
from hub.pipeline import headers as h
from hub.pipeline.control import Screen
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.pipeline.runner import Effects, RetryPolicy, StageRunner
from hub.pipeline.sink import MemorySink
from hub.recipients.base import Decision, ReceiptNote
from hub.signing.verifying import verifying
from schemas.audit import AuditStep, decode_record
from schemas.errors import ContractViolation, InputRejected, Reason
from tests.audit.helpers import make_writer, new_signer, public_keys

SIGNER = new_signer()
EVENT_ID = "6f1c2a7e-1111-5222-8333-944455556666"
KEY = b"pk-0123456789abcdef0123456789abcdef"


def ingest(record: InboundRecord) -> Sequence[OutboundRecord]:
    if record.value.startswith(b"bad"):
        raise InputRejected("Fornavn 'Kari' 12838545619 is wrong", reason=Reason.INVALID_XML)
    out = OutboundRecord(
        "hub.events.v1",
        KEY,
        b"{}",
        text_headers(
            [
                (h.EVENT_ID, EVENT_ID),
                (h.EVENT_TYPE, "no.kriminalomsorgen.release.planned.v1"),
                (h.CORRELATION_ID, "corr-12838545619"),
                (h.SOURCE_EVENT_ID, "KODA-1"),
            ]
        ),
    )
    return [SIGNER.sign_record(out)]


def inbound(
    offset: int, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()
) -> InboundRecord:
    # A publisher's key is never copied into the trail: here it is even an identity number.
    return InboundRecord(Position("in.koda.v1", 0, offset), b"12838545619", value, headers)


async def run(step, records):  # type: ignore[no-untyped-def]  # test helper
    runner = StageRunner(
        stage="ingest", step=step, sink=MemorySink(), dlq_topic="hub.dlq.v1", retry=RetryPolicy(1)
    )
    return await runner.run_batch(records)


async def test_a_published_event_is_received_then_published_with_its_ids_and_key() -> None:
    (outcome,) = await run(ingest, [inbound(0, b"<ok/>")])
    received, published = outcome_facts("ingest", outcome)
    assert received.step is AuditStep.RECEIVED
    assert received.input is not None
    assert received.subject is None
    assert published.step is AuditStep.PUBLISHED
    assert (published.message_id, published.subject, published.kid) == (
        EVENT_ID,
        KEY.decode(),
        SIGNER.kid,
    )
    assert published.output is not None
    assert published.correlation_id == "corr-***********", "masked, never in clear"


async def test_a_rejected_input_is_received_rejected_and_dead_lettered() -> None:
    (outcome,) = await run(ingest, [inbound(1, b"bad")])
    steps = outcome_facts("ingest", outcome)
    assert [f.step for f in steps] == [
        AuditStep.RECEIVED,
        AuditStep.REJECTED,
        AuditStep.DEAD_LETTERED,
    ]
    dead = steps[2]
    assert dead.reason == "invalid_xml"
    assert dead.output is not None
    assert dead.output.topic == "hub.dlq.v1"
    assert dead.entry_id is not None


async def test_a_record_failing_verification_is_on_record_as_such() -> None:
    unsigned = inbound(2, b"{}", text_headers([(h.EVENT_ID, EVENT_ID)]))
    (outcome,) = await run(verifying(ingest, public_keys(SIGNER)), [unsigned])
    steps = outcome_facts("route", outcome)
    assert [f.step for f in steps] == [
        AuditStep.RECEIVED,
        AuditStep.VERIFICATION_FAILED,
        AuditStep.DEAD_LETTERED,
    ]
    assert steps[1].reason == "bad_signature"
    assert steps[1].message_id == EVENT_ID


async def test_a_recipient_message_is_a_delivery_with_rule_and_legal_basis() -> None:
    def route(record: InboundRecord) -> Sequence[OutboundRecord]:
        out = OutboundRecord(
            "out.nav.v1",
            KEY,
            b"{}",
            text_headers(
                [
                    (h.EVENT_ID, "6f1c2a7e-1111-5222-8333-000000000001"),
                    (h.EVENT_TYPE, "no.justishub.nav.release.v1"),
                    (h.RECIPIENT, "nav"),
                    (h.RULE_ID, "nav-release"),
                    (h.LEGAL_BASIS, "Straffegjennomføringsloven § 4"),
                ]
            ),
        )
        return [SIGNER.sign_record(out)]

    canonical = inbound(3, b"{}", text_headers([(h.EVENT_ID, EVENT_ID)]))
    (outcome,) = await run(route, [canonical])
    _, delivered = outcome_facts("route_nav", outcome)
    assert delivered.step is AuditStep.DELIVERED
    assert (delivered.message_id, delivered.recipient, delivered.rule_id) == (
        EVENT_ID,
        "nav",
        "nav-release",
    )
    assert delivered.delivered_id == "6f1c2a7e-1111-5222-8333-000000000001"


async def test_the_hook_records_a_batch_and_a_redelivered_batch_repeats_its_ids() -> None:
    log = MemoryChainLog()
    hook = audit_hook(make_writer(log, SIGNER), "ingest")
    batch = [inbound(0, b"<ok/>"), inbound(1, b"bad")]
    await hook(await run(ingest, batch))
    await hook(await run(ingest, batch))
    records = [decode_record(e.value) for e in log.records]
    first, again = records[1:6], records[6:]  # after the chain's start record
    assert [r.id for r in first] == [r.id for r in again]
    assert [r.seq for r in records] == list(range(11))
    assert all(b"12838545619" not in e.value for e in log.records)


async def test_hub_headers_a_publisher_sent_are_on_record_by_name_only() -> None:
    forged = text_headers(
        [(h.REPLAY_OF, EVENT_ID), (h.CONTROL, "release"), ("hub-12838545619", "x")]
    )
    runner = StageRunner(
        stage="ingest",
        step=ingest,
        sink=MemorySink(),
        dlq_topic="hub.dlq.v1",
        retry=RetryPolicy(1),
        screen=Screen(public_keys(SIGNER), untrusted_topic=True),
    )
    (outcome,) = await runner.run_batch([inbound(0, b"<ok/>", forged)])
    received, refused, _published = outcome_facts("ingest", outcome)
    assert refused.step is AuditStep.HEADERS_REFUSED
    assert refused.input == received.input
    assert refused.reason == "untrusted_headers"
    assert refused.note == "hub-replay-of, hub-control, 1 other(s)"


NAV_MESSAGE_ID = "6f1c2a7e-1111-5222-8333-000000000001"


def _nav_message() -> OutboundRecord:
    out = OutboundRecord(
        "out.municipality.0301.v1",
        KEY,
        b"{}",
        text_headers(
            [
                (h.EVENT_ID, NAV_MESSAGE_ID),
                (h.EVENT_TYPE, "no.justishub.municipality.release.v1"),
                (h.RECIPIENT, "municipality:0301"),
                (h.RULE_ID, "municipality-release"),
                (h.LEGAL_BASIS, "Straffegjennomføringsloven § 42"),
            ]
        ),
    )
    return SIGNER.sign_record(out)


async def test_a_recipient_stage_records_its_messages_and_decisions_but_not_its_bookkeeping() -> (
    None
):
    # The step's notes: the delivery (redirected from a retired municipality) and a refusal.
    delivered = Decision(
        delivered=True,
        canonical_id=EVENT_ID,
        event_type="no.kriminalomsorgen.release.planned.v1",
        subject=KEY.decode(),
        recipient="municipality:0301",
        message_id=NAV_MESSAGE_ID,
        redirected_from="0302",
    )
    refused = Decision(
        delivered=False,
        canonical_id=EVENT_ID,
        event_type="no.kriminalomsorgen.release.planned.v1",
        subject=KEY.decode(),
        recipient="municipality:0301",
        rule_id="municipality-release",
        reason="no_consent",
    )
    state = OutboundRecord("hub.deliveries.v1", KEY, b"{}", ())

    def route(record: InboundRecord) -> Effects:
        return Effects([_nav_message(), state], [delivered, refused])

    (outcome,) = await run(route, [inbound(4, b"{}", text_headers([(h.EVENT_ID, EVENT_ID)]))])
    facts = outcome_facts(
        "route_municipality", outcome, received=False, unrecorded={"hub.deliveries.v1"}
    )

    assert [f.step for f in facts] == [AuditStep.DELIVERED, AuditStep.REFUSED]
    message, refusal = facts
    assert (message.delivered_id, message.redirected_from) == (NAV_MESSAGE_ID, "0302")
    assert message.output is not None
    assert message.output.topic == "out.municipality.0301.v1"
    assert (refusal.reason, refusal.rule_id, refusal.subject) == (
        "no_consent",
        "municipality-release",
        KEY.decode(),
    )
    assert refusal.input == message.input


async def test_a_recipient_contract_failure_is_a_refusal_then_a_dead_letter() -> None:
    def route(record: InboundRecord) -> Effects:
        raise ContractViolation("no such municipality", reason=Reason.UNKNOWN_MUNICIPALITY)

    canonical = InboundRecord(
        Position("hub.events.v1", 0, 5),
        KEY,
        b"{}",
        text_headers(
            [(h.EVENT_ID, EVENT_ID), (h.EVENT_TYPE, "no.kriminalomsorgen.release.planned.v1")]
        ),
    )
    (outcome,) = await run(route, [canonical])

    facts = outcome_facts("route_municipality", outcome, received=False, recipient="municipality")
    assert [f.step for f in facts] == [AuditStep.REFUSED, AuditStep.DEAD_LETTERED]
    refusal = facts[0]
    assert (refusal.recipient, refusal.reason, refusal.message_id, refusal.subject) == (
        "municipality",
        "unknown_municipality",
        EVENT_ID,
        KEY.decode(),
    )
    # A stage that decides for no recipient has no refusal to record.
    assert [f.step for f in outcome_facts("ingest", outcome)] == [
        AuditStep.RECEIVED,
        AuditStep.DEAD_LETTERED,
    ]


async def test_an_accepted_receipt_is_on_record_with_its_status() -> None:
    note = ReceiptNote("nav", NAV_MESSAGE_ID, EVENT_ID, KEY.decode(), "processed")

    def receipts(record: InboundRecord) -> Effects:
        return Effects([OutboundRecord("hub.deliveries.v1", KEY, b"{}", ())], [note])

    (outcome,) = await run(receipts, [inbound(6, b"{}")])
    received, receipt = outcome_facts("receipts", outcome, unrecorded={"hub.deliveries.v1"})
    assert received.step is AuditStep.RECEIVED
    assert receipt.step is AuditStep.RECEIPT
    assert (receipt.recipient, receipt.delivered_id, receipt.receipt_status) == (
        "nav",
        NAV_MESSAGE_ID,
        "processed",
    )
    assert receipt.id != received.id


async def test_a_receipt_its_contract_refuses_is_received_and_dead_lettered_with_its_reason() -> (
    None
):
    # A recipient's receipt (keyed here by an identity number) for a message it was never
    # sent: no hub event id to name a refusal by, so the dead letter and its reason say it.
    # The receipts stage used to build a refusal record without one, which the record model
    # refused: the stage's batch could then never be committed.
    def receipts(record: InboundRecord) -> Effects:
        raise ContractViolation("not yours", reason=Reason.WRONG_RECIPIENT)

    (outcome,) = await run(receipts, [inbound(7, b"{}")])
    facts = outcome_facts("receipts", outcome, recipient="receipts")
    assert [f.step for f in facts] == [AuditStep.RECEIVED, AuditStep.DEAD_LETTERED]
    assert facts[1].reason == "wrong_recipient"
    log = MemoryChainLog()
    await make_writer(log, SIGNER).append(facts)
    assert all(b"12838545619" not in e.value for e in log.records)
