"""The anchor file an auditor keeps: what is written is what is read, and a file that is not
one is a clear one-line refusal, before any broker is asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.audit.anchors import AnchorFileError, read_anchor_file, write_anchor_file
from hub.audit.tools import pinned_checkpoints
from hub.audit.verify import verify_trail
from hub.audit.writer import MemoryChainLog
from hub.cli.app import app
from hub.cli.commands import register
from tests.audit.helpers import as_inbound, facts, make_writer, new_signer, public_keys

register(app)


async def test_the_anchors_written_are_the_anchors_read_and_they_still_verify(
    tmp_path: Path,
) -> None:
    log, signer = MemoryChainLog(), new_signer()
    writer = make_writer(log, signer, every=5)
    await writer.append(facts(12))
    await writer.close()
    keys = public_keys(signer)
    report = verify_trail(as_inbound(log.records), as_inbound(log.anchors), keys)
    pinned = pinned_checkpoints(report)
    path = tmp_path / "anchors.json"
    write_anchor_file(path, pinned, topic="hub.audit.v1", exported=datetime.now(UTC))
    assert read_anchor_file(path) == pinned
    data = json.loads(path.read_text())
    assert (data["format"], data["topic"], len(data["anchors"])) == (1, "hub.audit.v1", 1)
    again = verify_trail(as_inbound(log.records), [], keys, pinned=read_anchor_file(path))
    assert again.intact
    assert again.writers[0].anchored_to == 14


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"format": 2, "anchors": []}), json.dumps({"format": 1}), "[]"],
)
def test_a_file_that_is_not_an_anchor_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "anchors.json"
    path.write_text(content)
    with pytest.raises(AnchorFileError):
        read_anchor_file(path)


def test_a_malformed_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps({"format": 1, "anchors": [{"writer": "w1", "seq": "x"}]}))
    with pytest.raises(AnchorFileError, match="malformed"):
        read_anchor_file(path)


def test_verify_with_an_unreadable_anchor_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    # Nobody listens there: the file is refused before any broker is asked.
    monkeypatch.setenv("HUB_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    result = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.output.startswith("hub: error: cannot read")
    assert len(result.output.splitlines()) == 1
