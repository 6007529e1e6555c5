"""Package rules: `schemas` needs nothing of ours, `adapters` only `schemas`; importing either
does no I/O beyond reading modules (the XSD is compiled on first use)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import {modules}
from adapters.koda import reader
ours = sorted({{m.split(".")[0] for m in sys.modules}} & {{"hub", "adapters", "schemas"}})
print(",".join(ours), reader._gate.cache_info().currsize)
"""


def _probe(*modules: str) -> str:
    code = _PROBE.format(modules=", ".join(modules))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    return result.stdout.strip()


def test_adapters_import_schemas_only_and_compile_nothing() -> None:
    assert _probe("adapters.koda", "adapters.xml_gate", "adapters.context") == "adapters,schemas 0"


def test_schemas_import_nothing_of_ours() -> None:
    code = (
        "import sys, schemas.events, schemas.codec, schemas.ids, schemas.identity, "
        "schemas.jsonschema, schemas.xsd\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'hub', 'adapters', 'schemas'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    assert result.stdout.strip() == "['schemas']"
