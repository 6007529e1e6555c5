"""Package rules: `schemas` needs nothing of ours, `adapters` only `schemas`; importing either
does no I/O beyond reading modules (XSDs and JSON Schemas are loaded on first use)."""

from __future__ import annotations

import subprocess
import sys

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
