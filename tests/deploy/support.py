"""The checked-in deployment files, read as a person applying them would, and the independent
validator of its custom resources and PromQL (Node, in tests/contract)."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hub.deploy import DEPLOY_DIR

CONTRACT_DIR = Path(__file__).parents[1] / "contract"
VALIDATOR = CONTRACT_DIR / "deploy.mjs"
INSTALL = "make contract-deps (npm ci --prefix tests/contract)"


@cache
def documents(name: str) -> tuple[dict[str, Any], ...]:
    text = (DEPLOY_DIR / name).read_text(encoding="utf-8")
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def of_kind(name: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents(name) if doc["kind"] == kind]


def check(tmp_path: Path, **payload: list[Any]) -> tuple[int, dict[str, Any]]:
    """Run the Node validator on `resources` and `expressions`; (exit status, report)."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to validate the deployment"
    assert (CONTRACT_DIR / "node_modules" / "@kubernetes-models").is_dir(), f"run {INSTALL}"
    path = tmp_path / "deploy-check.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = subprocess.run(
        [node, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report
