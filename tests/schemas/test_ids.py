from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.ids import CANONICAL_ID_NAMESPACE, canonical_id, id_name, name_based_id

KODA = "urn:no:kriminalomsorgen:koda"


def test_the_namespace_is_the_documented_derivation() -> None:
    derived = uuid.uuid5(uuid.NAMESPACE_URL, "urn:no:justishub:canonical-event-id")
    assert derived == CANONICAL_ID_NAMESPACE


def test_a_resend_gets_the_same_id() -> None:
    assert canonical_id(KODA, "KODA-2026-0000417") == canonical_id(KODA, "KODA-2026-0000417")


def test_the_id_is_pinned() -> None:
    # Ids are stored by recipients: a change here breaks every duplicate check downstream.
    assert canonical_id(KODA, "KODA-2026-0000417") == str(
        uuid.uuid5(CANONICAL_ID_NAMESPACE, '["urn:no:kriminalomsorgen:koda","KODA-2026-0000417"]')
    )


def test_the_id_is_a_version_5_uuid() -> None:
    parsed = uuid.UUID(canonical_id(KODA, "x"))
    assert parsed.version == 5
    assert str(parsed) == canonical_id(KODA, "x")


def test_source_and_event_id_cannot_run_into_each_other() -> None:
    assert canonical_id("urn:a:b", "c:d") != canonical_id("urn:a:b:c", "d")


@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_different_events_get_different_ids(s1: str, e1: str, s2: str, e2: str) -> None:
    if (s1, e1) != (s2, e2):
        assert canonical_id(s1, e1) != canonical_id(s2, e2)


@pytest.mark.parametrize(("source", "event_id"), [("", "x"), (KODA, "")])
def test_empty_parts_are_a_programming_error(source: str, event_id: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        canonical_id(source, event_id)


@given(st.uuids(), st.text(max_size=200))
def test_every_name_based_id_is_the_uuid5_of_its_name(namespace: uuid.UUID, name: str) -> None:
    # Ids are stored everywhere (recipients, the trail): the fast derivation must be uuid5's.
    try:
        expected = str(uuid.uuid5(namespace, name))
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            name_based_id(namespace, name)
        return
    assert name_based_id(namespace, name) == expected


_PARTS = st.lists(st.text(), max_size=5)


@given(parts=_PARTS)
def test_an_id_s_name_is_what_json_writes_for_any_text(parts: list[str]) -> None:
    assert id_name(parts) == json.dumps(parts, separators=(",", ":"), ensure_ascii=False)


@given(parts=_PARTS)
def test_an_ascii_only_name_is_what_json_writes_for_any_text(parts: list[str]) -> None:
    assert id_name(parts, ensure_ascii=True) == json.dumps(parts, separators=(",", ":"))


def test_control_characters_and_text_beyond_ascii_are_written_as_json_writes_them() -> None:
    parts = ["".join(map(chr, range(0x80))), "Tromsø\u2028\u2029\ufeff😀", "\ud800"]
    for ascii_only in (False, True):
        expected = json.dumps(parts, separators=(",", ":"), ensure_ascii=ascii_only)
        assert id_name(parts, ensure_ascii=ascii_only) == expected
