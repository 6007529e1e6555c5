"""The writer encodes records without a second validation (`encode_chained`): the bytes must be
the ones the record model makes, since every hash and signature of the trail is over them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.audit import (
    GENESIS,
    AuditFacts,
    AuditRecord,
    AuditStep,
    ChainEnd,
    Where,
    decode_record,
    encode_chained,
    encode_record,
    valid_writer,
)

_TOKENS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=60)
_WHERE = st.builds(Where, topic=_TOKENS, partition=st.integers(0, 99), offset=st.integers(0, 2**40))
_TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-3))]),
)


def _facts(**members: object) -> AuditFacts | None:
    try:
        return AuditFacts(**members)  # type: ignore[arg-type]  # arbitrary members, checked here
    except ValueError:
        return None  # not a valid record (an identity number in a text, say): nothing to encode


@st.composite
def facts(draw: st.DrawFn) -> AuditFacts:
    step = draw(st.sampled_from(list(AuditStep)))
    members = {
        "id": draw(_TOKENS),
        "step": step,
        "stage": draw(st.sampled_from(["ingest", "route", "route_nav", "audit", "console"])),
        "subject": draw(st.none() | st.just("pk-" + "ab" * 16)),
        "message_id": draw(st.none() | _TOKENS),
        "input": draw(st.none() | _WHERE),
        "output": draw(st.none() | _WHERE),
        "reason": draw(st.none() | st.sampled_from(["invalid_xml", "no_rule"])),
        "kid": draw(st.none() | _TOKENS),
        "entry_id": draw(st.none() | _TOKENS),
        "recipient": draw(st.none() | _TOKENS),
        "rule_id": draw(st.none() | _TOKENS),
        "legal_basis": draw(st.none() | _TEXT),
        "delivered_id": draw(st.none() | _TOKENS),
        "receipt_status": draw(st.none() | st.just("accepted")),
        "operator": draw(st.none() | _TOKENS),
        "action": draw(st.none() | st.just("replay")),
        "note": draw(st.none() | _TEXT),
        "closing": draw(st.none() | st.booleans()),
        "retention_days": draw(st.none() | st.integers(1, 36500)),
        "sealed": draw(
            st.none()
            | st.builds(ChainEnd, writer=_TOKENS, seq=st.integers(0, 99), hash=st.just(GENESIS))
        ),
    }
    # Every member a step requires, so that most drawn facts are valid ones.
    for name in ("input", "output"):
        members[name] = members[name] or Where(topic="hub.events.v1", partition=0, offset=1)
    for name in ("message_id", "event_type", "entry_id", "recipient", "rule_id", "delivered_id"):
        members[name] = members.get(name) or "x1"
    for name in ("reason", "receipt_status", "action"):
        members[name] = members[name] or "code"
    for name in ("legal_basis", "operator", "note", "kid"):
        members[name] = members[name] or "text"
    members["closing"] = members["closing"] if members["closing"] is not None else False
    members["sealed"] = members["sealed"] or ChainEnd(writer="w", seq=0, hash=GENESIS)
    made = _facts(**members)
    assume(made is not None)
    assert made is not None  # for the type checker: assume stopped the example otherwise
    return made


@settings(max_examples=300, deadline=None)
@given(facts(), _TOKENS, st.integers(0, 2**40), _TIMES)
def test_the_writer_encodes_a_record_as_the_record_model_does(
    made: AuditFacts, writer: str, seq: int, time: datetime
) -> None:
    prev = "0123456789abcdef" * 4
    fast = encode_chained(made, writer=writer, seq=seq, prev=prev, time=time)
    model = AuditRecord.chain(made, writer=writer, seq=seq, prev=prev, time=time)
    assert fast == encode_record(model)
    assert decode_record(fast) == model


def test_a_writer_id_the_records_could_not_carry_is_refused() -> None:
    assert valid_writer("host:42:20261206T000000Z:ab12cd34") == "host:42:20261206T000000Z:ab12cd34"
    with pytest.raises(ValueError, match="pattern"):
        valid_writer("host with spaces")
