from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.events import EVENT_CLASSES, Envelope, event_type_of
from schemas.jsonschema import JSON_DIR, REGENERATE_COMMAND, render_all, write_all
from schemas.recipients import RecipientKind
from tests.events import make_event


def test_checked_in_schemas_are_up_to_date() -> None:
    wanted = render_all()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in JSON_DIR.glob("*.json")}
    stale = sorted(
        name for name in wanted.keys() | on_disk.keys() if wanted.get(name) != on_disk.get(name)
    )
    assert not stale, f"schemas/json is out of date ({', '.join(stale)}); run: {REGENERATE_COMMAND}"


def test_one_schema_per_event_type() -> None:
    assert {f"{event_type_of(cls)}.json" for cls in EVENT_CLASSES} <= set(render_all())


def test_one_schema_per_recipient_kind_and_for_receipts() -> None:
    names = set(render_all())
    assert {f"recipient.{kind.value}.v1.json" for kind in RecipientKind} <= names
    assert "recipient.receipt.v1.json" in names


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_each_schema_is_named_by_its_events(cls: type[Envelope]) -> None:
    schema = json.loads(render_all()[f"{event_type_of(cls)}.json"])
    event = make_event(cls)
    assert schema["$id"] == event.dataschema
    assert schema["properties"]["type"]["const"] == event.type
    assert set(schema["required"]) == set(json.loads(event.model_dump_json()))


def test_write_all_replaces_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "no.kriminalomsorgen.retired.v1.json").write_text("{}")
    written = write_all(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert {p.name: p.read_text(encoding="utf-8") for p in written} == render_all()
