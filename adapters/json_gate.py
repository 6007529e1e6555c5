"""The one entrance for JSON source documents, shared by every JSON adapter.

In order, each failure with its own reason code:
  1. size cap, not empty, UTF-8 (`adapters.raw`, as for XML)     too_large, empty_document,
                                                                  invalid_encoding
  2. strict JSON: no duplicate keys, no NaN or Infinity, not
     absurdly deep (a UTF-8 byte order mark is tolerated)         invalid_json
  3. valid against the source's JSON Schema (draft 2020-12),
     compiled once per gate; unknown fields are refused by the
     schema (`additionalProperties: false`)                       schema_violation

The schema file is the published contract itself, so the hub and every publisher check against
the same text. Rejection details name the JSON path and the rule (`$.person.nationalId: does
not match ^[0-9]{11}$`), never the offending value: details end up in dead-letter headers.
Keys count as values: a key the schema does not declare may be anything a source wrote, a name
included, so a path shows it as `?`, and unknown fields are counted, with the declared field each
seems a misspelling of, never named. jsonschema's and json's exceptions never leave this module.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Final, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, relevance

from adapters.raw import check_raw
from schemas.errors import HubError, InputRejected, Reason

__all__ = ["JsonGate"]

_MAX_ERRORS_SHOWN: Final = 5
_MAX_ECHO: Final = 64
# Unknown keys looked at for a likely misspelling, and declared names suggested, per object.
_MAX_KEYS_COMPARED: Final = 50
_MAX_SUGGESTED: Final = 3


class _Refused(ValueError):
    """Raised inside `json.loads` hooks; becomes `invalid_json`."""


class JsonGate:
    """Checks raw source documents of one JSON format: see the module docstring for the steps."""

    def __init__(self, schema_path: Path) -> None:
        self._validator = _compile(schema_path)
        self._names = frozenset(_declared_names(self._validator.schema))

    def check(self, raw: bytes, *, max_bytes: int) -> dict[str, Any]:
        """The parsed document if it passes every step, else `InputRejected`."""
        check_raw(raw, max_bytes=max_bytes)
        document = _parse(raw, self._names)
        errors = sorted(self._validator.iter_errors(document), key=relevance, reverse=True)
        if errors:
            described = (_describe(e, self._names) for e in errors)
            raise InputRejected(_describe_all(described), reason=Reason.SCHEMA_VIOLATION)
        if not isinstance(document, dict):  # pragma: no cover - the schema says "object"
            raise InputRejected("document is not a JSON object")
        return document


def _compile(schema_path: Path) -> Draft202012Validator:
    try:
        schema = json.loads(schema_path.read_bytes())
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, SchemaError) as exc:
        # Our own file is broken or missing: a fault of the deployment, not of any message.
        raise HubError(f"cannot load {schema_path.name}: {exc}") from exc
    return Draft202012Validator(schema)


def _declared_names(schema: Any) -> Iterator[str]:
    """Every property name the schema declares, at any depth."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in schema.values():
            yield from _declared_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _declared_names(value)


def _parse(raw: bytes, names: frozenset[str]) -> Any:
    try:
        return json.loads(
            raw, object_pairs_hook=_no_duplicates(names), parse_constant=_no_constants
        )
    except _Refused as exc:
        raise InputRejected(f"not acceptable JSON: {exc}", reason=Reason.INVALID_JSON) from exc
    except RecursionError as exc:
        raise InputRejected("JSON nested too deeply", reason=Reason.INVALID_JSON) from exc
    except json.JSONDecodeError as exc:
        # `msg` is json's own fixed wording; the whole text would quote the document.
        raise InputRejected(
            f"not well-formed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            reason=Reason.INVALID_JSON,
        ) from exc
    except ValueError as exc:  # integers too long to convert
        raise InputRejected(
            "not well-formed JSON: a number too long to read", reason=Reason.INVALID_JSON
        ) from exc


def _no_duplicates(names: frozenset[str]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, value in pairs:
            if key in document:
                shown = repr(key) if key in names else "an undeclared key"
                raise _Refused(f"{shown} appears twice in one object")
            document[key] = value
        return document

    return hook


def _no_constants(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _describe_all(descriptions: Iterable[str]) -> str:
    described = list(dict.fromkeys(descriptions))  # each once, in order
    shown = "; ".join(described[:_MAX_ERRORS_SHOWN])
    more = len(described) - _MAX_ERRORS_SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def _describe(error: ValidationError, names: frozenset[str]) -> str:
    path = _path(error.absolute_path, names)
    # jsonschema types these as "maybe unset"; for a reported error they are always set.
    keyword, expected = error.validator, cast(Any, error.validator_value)
    instance = cast(Any, error.instance)
    if keyword == "required":
        # One error per missing name, none saying which: name them all (each error alike, so
        # the list is shown once). The names come from the schema, not from the input.
        missing = [name for name in expected if name not in instance]
        return "; ".join(f"{_child(path, name)}: required, missing" for name in missing)
    if keyword == "additionalProperties":
        return f"{path}: {_unknown_fields(instance, error.schema)}"
    if keyword == "not":  # `{"not": {}}`: the field may not be present at all
        return f"{path}: not allowed for this eventType"
    if keyword == "type":
        return f"{path}: must be of type {expected}"
    if keyword in {"enum", "const"}:
        return f"{path}: not one of the allowed values {_clip(json.dumps(expected))}"
    if keyword == "pattern":
        return f"{path}: does not match {expected}"
    if keyword in {"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}:
        return f"{path}: breaks {keyword} {expected}"
    return f"{path}: breaks {keyword}"


def _unknown_fields(instance: Any, schema: Any) -> str:
    # An instance that failed `additionalProperties` is an object, its schema a mapping.
    allowed = sorted(schema.get("properties", {}))
    unknown = [key for key in instance if key not in allowed]
    counted = f"{len(unknown)} unknown field{'s' if len(unknown) != 1 else ''}"
    likely = _likely_meant(unknown[:_MAX_KEYS_COMPARED], allowed)
    return f"{counted} (perhaps meant: {', '.join(likely)})" if likely else counted


def _likely_meant(keys: list[str], allowed: list[str]) -> list[str]:
    """The declared names some of `keys` seem a misspelling of: never a key itself."""
    lowered = {name.lower(): name for name in allowed}
    meant: list[str] = []
    for key in keys:
        close = difflib.get_close_matches(key[:_MAX_ECHO].lower(), lowered, n=1, cutoff=0.75)
        if close and lowered[close[0]] not in meant:
            meant.append(lowered[close[0]])
    return meant[:_MAX_SUGGESTED]


def _path(parts: Iterable[str | int], names: frozenset[str]) -> str:
    return "$" + "".join(_step(part, names) for part in parts)


def _step(part: str | int, names: frozenset[str]) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    return f".{part}" if part in names else ".?"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
