"""The compatibility rule: each checked-in event schema against its released copy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.compat import RELEASED_DIR, check_released, incompatibilities, release
from schemas.jsonschema import render_all

NAME = "no.politiet.custody.started.v1.json"
RELEASED = json.loads((RELEASED_DIR / NAME).read_text(encoding="utf-8"))


def test_no_released_schema_is_broken() -> None:
    problems = check_released()
    assert problems == {}, (
        "an event schema changed incompatibly with its released version; make a new type "
        f"version (.v2) instead: {problems}"
    )


def test_every_type_version_is_released() -> None:
    released = {path.name for path in RELEASED_DIR.glob("*.json")}
    assert released == set(render_all()), "run: python -m schemas.compat --release"


def _changed(edit: Callable[[dict[str, Any]], None]) -> list[str]:
    new = copy.deepcopy(RELEASED)
    edit(new)
    return incompatibilities(RELEASED, new)


def _custody(schema: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = schema["$defs"]["CustodyOrder"]
    return definition


def _optional_text(schema: dict[str, Any]) -> None:
    _custody(schema)["properties"]["note"] = {"type": "string"}


def _nullable_in_required(schema: dict[str, Any]) -> None:
    # How an optional field looks in a serialization schema: present, and maybe null.
    _custody(schema)["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    _custody(schema)["required"].append("note")


def _new_description(schema: dict[str, Any]) -> None:
    _custody(schema)["properties"]["until"]["description"] = "Reworded."


@pytest.mark.parametrize("edit", [_optional_text, _nullable_in_required, _new_description])
def test_compatible_changes(edit: Callable[[dict[str, Any]], None]) -> None:
    assert _changed(edit) == []


def _removed(schema: dict[str, Any]) -> None:
    del _custody(schema)["properties"]["until"]
    _custody(schema)["required"].remove("until")


def _required_never_null(schema: dict[str, Any]) -> None:
    _custody(schema)["properties"]["note"] = {"type": "string"}
    _custody(schema)["required"].append("note")


def _no_longer_required(schema: dict[str, Any]) -> None:
    _custody(schema)["required"].remove("until")


def _retyped(schema: dict[str, Any]) -> None:
    _custody(schema)["properties"]["until"] = {"type": "string"}


def _new_code(schema: dict[str, Any]) -> None:
    schema["$defs"]["IdentityKind"]["enum"].append("HNR")


def _stricter(schema: dict[str, Any]) -> None:
    schema["$defs"]["CustodyStartedData"]["properties"]["police_district"]["maxLength"] = 50


def _other_definition(schema: dict[str, Any]) -> None:
    schema["$defs"]["Unit"]["properties"]["code"]["pattern"] = "^[0-9]{4}$"


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (_removed, "until: the field was removed"),
        (_required_never_null, "note: a new field that is required and never null"),
        (_no_longer_required, "until: was required, no longer"),
        (_retyped, "until: format was removed"),
        (_new_code, "identity_kind.enum"),
        (_stricter, "police_district.maxLength"),
        (_other_definition, "facility.code.pattern: changed"),
    ],
)
def test_incompatible_changes(edit: Callable[[dict[str, Any]], None], says: str) -> None:
    problems = _changed(edit)
    assert any(says in problem for problem in problems), problems


def test_a_removed_type_version_is_incompatible(tmp_path: Path) -> None:
    (tmp_path / NAME).write_text(json.dumps(RELEASED), encoding="utf-8")
    assert check_released(tmp_path, current={}) == {NAME: ["$: the type version was removed"]}


def test_release_writes_what_is_current(tmp_path: Path) -> None:
    written = release(tmp_path)
    assert {p.name: p.read_text(encoding="utf-8") for p in written} == render_all()
