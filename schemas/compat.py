"""The compatibility rule of the published event schemas, checked against released copies.

A new version of an event type's schema may add optional fields (fields that may be absent, or,
in the serialized form recipients receive, may be null), and may change descriptions and titles.
Anything else (a field removed, renamed, retyped, made required or optional, a pattern, limit,
enum or constant changed) is a new type version (`.v2`), with a schema file of its own.

`schemas/json/released/` keeps the schema of every type version as it was last released. A test
compares each with the current one (`schemas.jsonschema.render_all`) and fails on an
incompatible change. To release (after that test passes): `python -m schemas.compat --release`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from schemas.jsonschema import JSON_DIR, render_all

__all__ = ["RELEASED_DIR", "check_released", "incompatibilities", "main", "release"]

RELEASED_DIR: Final = JSON_DIR / "released"
# Words for people: changing them changes no instance's validity.
_DOCUMENTATION: Final = frozenset({"title", "description", "examples", "$comment"})


def incompatibilities(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why `new` is not a compatible successor of `old` (both whole schemas); empty if it is."""
    return list(_compare(_inlined(old, old), _inlined(new, new), "$"))


def check_released(
    released_dir: Path = RELEASED_DIR, current: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """File name → problems, for every released schema that the current one breaks."""
    now = render_all() if current is None else current
    problems: dict[str, list[str]] = {}
    for path in sorted(released_dir.glob("*.json")):
        if path.name not in now:
            problems[path.name] = ["$: the type version was removed"]
            continue
        found = incompatibilities(json.loads(path.read_text("utf-8")), json.loads(now[path.name]))
        if found:
            problems[path.name] = found
    return problems


def release(released_dir: Path = RELEASED_DIR) -> list[Path]:
    """Record the current schemas as released (refusing if any breaks its released copy)."""
    problems = check_released(released_dir)
    if problems:
        raise ValueError(f"incompatible with the released schemas: {problems}")
    released_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(render_all().items()):
        (released_dir / name).write_text(text, encoding="utf-8")
        written.append(released_dir / name)
    return written


def main() -> None:
    if sys.argv[1:] == ["--release"]:
        for path in release():
            sys.stdout.write(f"released {path}\n")
        return
    problems = check_released()
    for name, found in problems.items():
        for problem in found:
            sys.stdout.write(f"{name}: {problem}\n")
    sys.exit(1 if problems else 0)


def _compare(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        yield from _compare_schemas(old, new, path)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (was, now) in enumerate(zip(old, new, strict=True)):
            yield from _compare(was, now, f"{path}[{index}]")
    elif old != new:
        yield f"{path}: changed from {_short(old)} to {_short(new)}"


def _compare_schemas(old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[str]:
    if "properties" in old or "properties" in new:
        yield from _compare_properties(old, new, path)
    skip = _DOCUMENTATION | {"properties", "required"}
    for key in sorted((old.keys() | new.keys()) - skip):
        if key not in new:
            yield f"{path}: {key} was removed"
        elif key not in old:
            yield f"{path}: {key} was added"
        else:
            yield from _compare(old[key], new[key], f"{path}.{key}")


def _compare_properties(old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[str]:
    was, now = old.get("properties", {}), new.get("properties", {})
    was_required, now_required = set(old.get("required", ())), set(new.get("required", ()))
    for name in sorted(was):
        where = f"{path}.{name}"
        if name not in now:
            yield f"{where}: the field was removed"
            continue
        if (name in was_required) != (name in now_required):
            yield f"{where}: was {'required' if name in was_required else 'optional'}, no longer"
        yield from _compare(was[name], now[name], where)
    for name in sorted(now.keys() - was.keys()):
        if name in now_required and not _admits_null(now[name]):
            yield f"{path}.{name}: a new field that is required and never null"


def _admits_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return schema is True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    options: list[Any] = schema.get("anyOf") or schema.get("oneOf") or []
    return any(_admits_null(option) for option in options)


def _inlined(node: Any, root: Mapping[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by what it names (the event models have no
    recursion), so that a renamed or moved definition compares by its content."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inlined({**target, **rest}, root)
        return {k: _inlined(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inlined(item, root) for item in node]
    return node


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:80] + "…"


if __name__ == "__main__":
    main()
