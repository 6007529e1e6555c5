from __future__ import annotations

import json

import pytest

from schemas.codec import decode, encode
from schemas.errors import InputRejected, Reason
from schemas.events import EVENT_CLASSES, Envelope, ReleasePlanned, TransferPlanned
from tests.events import make_event
from tests.identities import SYNTHETIC_FNR


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_round_trip(cls: type[Envelope]) -> None:
    event = make_event(cls)
    assert decode(encode(event)) == event


def test_the_same_event_gives_the_same_bytes() -> None:
    assert encode(make_event(ReleasePlanned)) == encode(make_event(ReleasePlanned))


def test_canonical_form_per_rfc_8785() -> None:
    data = encode(make_event(ReleasePlanned))
    # Keys sorted (all ours are ASCII), no insignificant whitespace, non-ASCII as UTF-8 text.
    parsed = json.loads(data)
    assert list(parsed) == sorted(parsed)
    assert list(parsed["data"]["person"]) == sorted(parsed["data"]["person"])
    assert "Ødegård".encode() in data
    assert b"\\u" not in data
    assert data == json.dumps(
        parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def test_absent_optional_values_are_written_as_null() -> None:
    parsed = json.loads(encode(make_event(TransferPlanned)))
    assert parsed["replaces"] is None
    assert parsed["data"]["transfer"]["reason"] is None


def test_decode_accepts_any_valid_json_spelling() -> None:
    event = make_event(ReleasePlanned)
    assert decode(event.model_dump_json(indent=2).encode()) == event


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"[1,]"])
def test_not_json(data: bytes) -> None:
    with pytest.raises(InputRejected) as caught:
        decode(data)
    assert caught.value.reason is Reason.INVALID_JSON
    assert isinstance(caught.value.__cause__, Exception)


def as_json(**changes: object) -> bytes:
    parsed = json.loads(encode(make_event(ReleasePlanned)))
    return json.dumps({**parsed, **changes}).encode()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"[]", "event"),
        (b"{}", "event"),
        (as_json(type="no.kriminalomsorgen.release.forgotten.v1"), "event"),
        (as_json(time="2026-11-20T09:15:00"), "time"),
        (as_json(extra="x"), "(an unknown field)"),  # the key itself is not said
        (as_json(subject=SYNTHETIC_FNR), "subject"),
    ],
)
def test_not_a_canonical_event(data: bytes, where: str) -> None:
    with pytest.raises(InputRejected) as caught:
        decode(data)
    assert caught.value.reason is Reason.SCHEMA_VIOLATION
    assert where in caught.value.detail


def test_rejections_do_not_quote_the_input() -> None:
    parsed = json.loads(encode(make_event(ReleasePlanned)))
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    parsed["data"]["person"]["identity_number"] = wrong
    parsed["data"]["person"]["given_name"] = "Kari1"
    with pytest.raises(InputRejected) as caught:
        decode(json.dumps(parsed).encode())
    assert "data.person.identity_number" in caught.value.detail
    assert "data.person.given_name" in caught.value.detail
    assert wrong not in str(caught.value)
    assert "Kari1" not in str(caught.value)


def test_a_rejection_never_quotes_the_input_nor_names_an_unknown_key() -> None:
    for document in (
        {"type": "Zqkari Nordmann", "id": "x"},
        {**json.loads(encode(make_event(ReleasePlanned))), "Zqkari": "12838545619"},
    ):
        with pytest.raises(InputRejected) as caught:
            decode(json.dumps(document).encode())
        assert "Zqkari" not in str(caught.value)
        assert "12838545619" not in str(caught.value)


def _with_identity_number(number: str, kind: str = "FNR") -> bytes:
    parsed = json.loads(encode(make_event(ReleasePlanned)))
    parsed["data"]["person"] |= {"identity_number": number, "identity_kind": kind}
    return json.dumps(parsed).encode()


def test_an_unverified_event_has_its_identity_number_checked() -> None:
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    with pytest.raises(InputRejected, match="second check digit"):
        decode(_with_identity_number(wrong))


def test_a_verified_event_is_not_checked_again_but_keeps_its_shape_and_kind() -> None:
    """The hub checked the number when it wrote and signed the event; a recipient stage that
    verified that signature does not spend the check again. What it still insists on: eleven
    digits, and the kind they say."""
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    event = decode(_with_identity_number(wrong), verified=True)
    assert event.data.person.identity_number == wrong
    with pytest.raises(InputRejected, match=r"data\.person\.identity_number"):
        decode(_with_identity_number("1283854561"), verified=True)
    with pytest.raises(InputRejected, match="identity_kind does not match"):
        decode(_with_identity_number(SYNTHETIC_FNR, kind="DNR"), verified=True)
