"""`hub keys` as an operator uses it: one clear line for a mistake, a JWKS a recipient can use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.cli.commands import register

register(app)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_SIGNING__PASSPHRASE", "a passphrase for the tests")
    return tmp_path


def hub(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_generate_jwks_rotate(env: Path) -> None:
    code, out = hub("keys", "generate")
    assert code == 0, out
    first = out.split()[4]
    code, out = hub("keys", "generate")
    assert code == 2
    assert out.strip().startswith("hub: error: signing_key_unavailable:")
    assert len(out.strip().splitlines()) == 1, "one line, no traceback"
    code, out = hub("keys", "rotate")
    assert code == 0, out
    code, out = hub("keys", "jwks")
    kids = [k["kid"] for k in json.loads(out)["keys"]]
    assert len(kids) == 2
    assert kids[1] == first


def test_jwks_without_keys_says_how_to_make_one(env: Path) -> None:
    code, out = hub("keys", "jwks")
    assert code == 2
    assert "hub keys generate" in out
