"""Package rules: `schemas` needs nothing of ours, `adapters` only `schemas`; importing either
does no I/O beyond reading modules (XSDs and JSON Schemas are loaded on first use). The runtime
(`hub`) reaches the development tooling (`hubdev`) through one door only, when a development
command runs, and works without it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import sys
import {modules}
from adapters.court import reader as court
from adapters.koda import reader as koda
from adapters.police import reader as police
ours = sorted({{m.split(".")[0] for m in sys.modules}} & {{"hub", "adapters", "schemas"}})
print(",".join(ours), sum(r._gate.cache_info().currsize for r in (koda, court, police)))
"""


def _probe(*modules: str) -> str:
    code = _PROBE.format(modules=", ".join(modules))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    return result.stdout.strip()


def test_adapters_import_schemas_only_and_compile_nothing() -> None:
    probed = _probe(
        "adapters.koda",
        "adapters.court",
        "adapters.police",
        "adapters.xml_gate",
        "adapters.json_gate",
        "adapters.context",
    )
    assert probed == "adapters,schemas 0"


def test_schemas_import_nothing_of_ours() -> None:
    code = (
        "import sys, schemas.events, schemas.codec, schemas.ids, schemas.identity, "
        "schemas.jsonschema, schemas.xsd, schemas.sources, schemas.compat\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'hub', 'adapters', 'schemas'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    assert result.stdout.strip() == "['schemas']"


# The one module of the runtime that may reach for the development tooling, and only inside a
# function, when a development command runs.
_DEV_DOOR = Path("hub/cli/devtools.py")
_ROOT = Path(__file__).parents[1]


def _dev_imports(tree: ast.Module) -> list[tuple[int, bool]]:
    """(line, at module level) of every import of `hubdev` in `tree`."""
    nested = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name == "hubdev" or name.startswith("hubdev.") for name in names):
            found.append((node.lineno, id(node) not in nested))
    return found


def test_the_runtime_imports_the_dev_tooling_only_through_its_one_door() -> None:
    offending = []
    for path in sorted((_ROOT / "hub").rglob("*.py")):
        relative = path.relative_to(_ROOT)
        for line, at_module_level in _dev_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if relative != _DEV_DOOR or at_module_level:
                offending.append(f"{relative}:{line}")
    assert offending == []
    door = _dev_imports(ast.parse((_ROOT / _DEV_DOOR).read_text(encoding="utf-8")))
    assert door, "the door names no hubdev import: is the test still looking at the right file?"


def test_importing_every_runtime_module_loads_no_dev_tooling() -> None:
    code = (
        "import importlib, pkgutil, sys, hub\n"
        "names = [m.name for m in pkgutil.walk_packages(hub.__path__, 'hub.')]\n"
        "for name in names:\n"
        "    if not name.endswith('.__main__'):\n"
        "        importlib.import_module(name)\n"
        "print(len(names), sorted(m for m in sys.modules if m.split('.')[0] == 'hubdev'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True, cwd=_ROOT
    )
    count, loaded = result.stdout.strip().split(" ", 1)
    assert int(count) > 100  # every module of the runtime was imported
    assert loaded == "[]"


@pytest.fixture
def runtime_only(tmp_path: Path) -> Path:
    """A folder that holds `hub`, `schemas` and `adapters` but no `hubdev`, as the image has."""
    for package in ("hub", "schemas", "adapters"):
        (tmp_path / package).symlink_to(_ROOT / package)
    return tmp_path


def _hub(*args: str, runtime_only: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`hub ARGS` in a process of its own; with `runtime_only`, importing from that folder
    instead of the checkout."""
    prelude = ""
    if runtime_only is not None:
        hidden = ("", str(_ROOT))
        prelude = (
            f"import sys\nsys.path[:] = [{str(runtime_only)!r}] + "
            f"[p for p in sys.path if p not in {hidden!r}]\n"
        )
    return subprocess.run(
        [sys.executable, "-c", f"{prelude}from hub.cli import main; main()", *args],
        capture_output=True,
        check=False,
        text=True,
        cwd=runtime_only or _ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )


def _commands(help_text: str) -> set[str]:
    return set(re.findall(r"^[│|]\s+([a-z][\w-]*)\s", help_text, flags=re.MULTILINE))


def test_the_cli_offers_the_dev_commands_when_the_dev_tooling_is_installed() -> None:
    assert _commands(_hub("--help").stdout) >= {"run", "bench", "demo"}
    assert _commands(_hub("kafka", "--help").stdout) == {
        "credentials",
        "up",
        "down",
        "status",
    }


def test_without_the_dev_tooling_the_cli_offers_the_runtime_alone(runtime_only: Path) -> None:
    root = _hub("--help", runtime_only=runtime_only)
    assert root.returncode == 0, root.stderr
    commands = _commands(root.stdout)
    assert {"run", "publish", "tail", "dlq", "audit", "topics", "kafka"} <= commands
    assert not commands & {"bench", "demo"}
    kafka = _hub("kafka", "--help", runtime_only=runtime_only)
    assert _commands(kafka.stdout) == {"credentials"}
    demo = _hub("run", "--demo", runtime_only=runtime_only)
    assert demo.returncode == 2
    assert demo.stderr.startswith("hub: error: --demo needs the development tools"), demo.stderr
    assert demo.stderr.count("\n") == 1
