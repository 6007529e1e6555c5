"""`hub deploy render`: the checked-in files are what the policy and register imply now."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.access import Place, Places, load_places
from hub.cli.deploy import deploy_app
from hub.deploy import DEPLOY_DIR, RENDER_COMMAND, deployment_settings, render, stale
from hub.routing.policy import load_policy

app = typer.Typer()
app.add_typer(deploy_app, name="deploy")


def test_the_checked_in_files_are_up_to_date() -> None:
    assert stale(render()) == [], f"deploy/kubernetes is out of date; run: {RENDER_COMMAND}"


def test_a_new_municipality_makes_the_files_stale() -> None:
    settings = deployment_settings()
    places = load_places(settings.routing.municipalities_path)
    more = Places((*places.municipalities, Place("9999", "Ny kommune")), places.health_regions)
    files = render(settings, load_policy(settings.routing.policy_path), more)
    assert stale(files) == ["topics.yaml", "users.yaml"]
    assert "recipient.municipality.9999" in files["users.yaml"]
    assert "out.municipality.9999.v1" in files["topics.yaml"]


def test_the_files_do_not_depend_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TOPICS__RECIPIENT_PREFIX", "elsewhere.")
    monkeypatch.setenv("HUB_KAFKA__GROUP_PREFIX", "other")
    assert stale(render()) == []


def test_rendering_twice_gives_the_same_bytes() -> None:
    assert render() == render()


def test_check_fails_on_a_stale_folder_and_passes_once_rendered(tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["deploy", "render", "--check", "--out", str(tmp_path)])
    assert checked.exit_code == 1
    assert f"run: {RENDER_COMMAND}" in checked.stderr
    written = runner.invoke(app, ["deploy", "render", "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(render())
    again = runner.invoke(app, ["deploy", "render", "--check", "--out", str(tmp_path)])
    assert again.exit_code == 0
    (tmp_path / "users.yaml").write_text("# edited by hand\n", encoding="utf-8")
    edited = runner.invoke(app, ["deploy", "render", "--check", "--out", str(tmp_path)])
    assert edited.exit_code == 1
    assert "users.yaml" in edited.stderr


def test_the_checked_in_folder_is_the_default() -> None:
    assert Path(__file__).parents[2] / "deploy" / "kubernetes" == DEPLOY_DIR
    assert CliRunner().invoke(app, ["deploy", "render", "--check"]).exit_code == 0
