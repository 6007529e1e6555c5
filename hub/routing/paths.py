"""Dotted paths into models and into their JSON form: what the policy's allow-lists name.

`model_paths` lists every path a model can hold (`data.release.needs`, and its prefixes
`data.release` and `data`); `project` copies only the allowed subtrees of a JSON object.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel

__all__ = ["descendants", "model_paths", "project"]


@cache
def model_paths(model: type[BaseModel], prefix: str = "") -> frozenset[str]:
    """Every dotted path of `model`, prefixes included."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        for inner in _models_in(field.annotation):
            paths |= model_paths(inner, f"{path}.")
    return frozenset(paths)


def descendants(paths: Iterable[str], path: str) -> set[str]:
    """`path` and every path below it among `paths`."""
    return {p for p in paths if p == path or p.startswith(path + ".")}


def project(document: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """The parts of `document` (a JSON object) at the `allowed` paths, and nothing else.

    A path names a whole subtree. Absent and null values stay absent.
    """
    out: dict[str, Any] = {}
    for path in allowed:
        _copy(document, out, path.split("."))
    return out


def _copy(source: Mapping[str, Any], target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    value = source.get(head)
    if value is None:
        return
    if not rest:
        target[head] = value
        return
    if isinstance(value, Mapping):
        _copy(value, target.setdefault(head, {}), rest)
        if not target[head]:
            del target[head]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []
