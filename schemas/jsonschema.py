"""JSON Schemas, checked in under `json/`: one per canonical event type, one per recipient
message kind (`recipient.<kind>.v1.json`), the receipt recipients send, and the hub's alerts.

Recipients validate what they receive against these, so they describe the serialized form.
Regenerate after changing a model: `python -m schemas.jsonschema`. A test fails while a checked-in
file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from schemas.alerts import (
    ALERT_TYPE,
    ALERT_TYPE_V1,
    OPERATIONS_ALERT_TYPE,
    Alert,
    AlertV1,
    OperationsAlert,
)
from schemas.events import EVENT_CLASSES, dataschema_for, event_type_of
from schemas.recipients import MESSAGE_CLASSES, Receipt, recipient_schema

__all__ = ["JSON_DIR", "REGENERATE_COMMAND", "main", "render_all", "write_all"]

JSON_DIR: Final = Path(__file__).with_name("json")
REGENERATE_COMMAND: Final = "python -m schemas.jsonschema"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


RECEIPT_SCHEMA: Final = recipient_schema("receipt")


def render_all() -> dict[str, str]:
    """File name → text of every schema: event types, recipient messages, receipt, alert."""
    schemas = {
        f"{event_type_of(cls)}.json": _render(cls, dataschema_for(event_type_of(cls)))
        for cls in EVENT_CLASSES
    }
    for kind, message in MESSAGE_CLASSES.items():
        uri = recipient_schema(kind.value)
        schemas[f"{uri.rsplit(':', 1)[1]}.json"] = _render(message, uri)
    schemas[f"{RECEIPT_SCHEMA.rsplit(':', 1)[1]}.json"] = _render(Receipt, RECEIPT_SCHEMA)
    schemas[f"{ALERT_TYPE}.json"] = _render(Alert, dataschema_for(ALERT_TYPE))
    schemas[f"{ALERT_TYPE_V1}.json"] = _render(AlertV1, dataschema_for(ALERT_TYPE_V1))
    schemas[f"{OPERATIONS_ALERT_TYPE}.json"] = _render(
        OperationsAlert, dataschema_for(OPERATIONS_ALERT_TYPE)
    )
    return schemas


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


def _render(cls: type[BaseModel], uri: str) -> str:
    schema: dict[str, Any] = {
        "$schema": _DIALECT,
        "$id": uri,
        **cls.model_json_schema(mode="serialization"),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    main()
