"""JSON Schemas of the canonical events, one file per event type, checked in under `json/`.

Recipients validate what they receive against these, so they describe the serialized form.
Regenerate after changing a model: `python -m schemas.jsonschema`. A test fails while a checked-in
file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from schemas.events import EVENT_CLASSES, Envelope, dataschema_for, event_type_of

__all__ = ["JSON_DIR", "REGENERATE_COMMAND", "main", "render_all", "write_all"]

JSON_DIR: Final = Path(__file__).with_name("json")
REGENERATE_COMMAND: Final = "python -m schemas.jsonschema"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def render_all() -> dict[str, str]:
    """File name → text of the schema of every event type."""
    return {f"{event_type_of(cls)}.json": _render(cls) for cls in EVENT_CLASSES}


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema into `directory`, removing schemas of types that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = render_all()
    for old in directory.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    written = []
    for name, text in sorted(wanted.items()):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    for path in write_all():
        sys.stdout.write(f"wrote {path}\n")


def _render(cls: type[Envelope]) -> str:
    schema: dict[str, Any] = {
        "$schema": _DIALECT,
        "$id": dataschema_for(event_type_of(cls)),
        **cls.model_json_schema(mode="serialization"),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    main()
