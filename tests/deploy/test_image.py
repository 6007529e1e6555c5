"""The image's Dockerfile, read statically (no Docker here): built in stages, run as a user of
its own, and nothing secret baked in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]


def test_it_builds_in_stages_and_the_last_copies_only_the_built_environment() -> None:
    stages = [rest for word, rest in _instructions() if word == "FROM"]
    assert len(stages) >= 2
    assert all(" AS " in stage.upper() for stage in stages)
    final = _final_stage()
    copied = [rest for word, rest in final if word == "COPY"]
    assert any(rest.startswith("--from=build ") for rest in copied)
    # The final stage installs nothing itself: no pip, no compilers.
    assert not any("pip install" in rest for word, rest in final if word == "RUN")


def test_it_runs_as_a_user_that_is_not_root() -> None:
    users = [rest for word, rest in _final_stage() if word == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert (ROOT / "deploy" / "kubernetes" / "hub.yaml").read_text().count(f"runAsUser: {user}")


def test_nothing_secret_is_baked_in() -> None:
    steps = _instructions()
    settings = " ".join(rest for word, rest in steps if word in {"ENV", "ARG"})
    assert not re.search(r"(SECRET|PASSWORD|PASSPHRASE|TOKEN|API_KEYS|USERS)\w*=", settings)
    copied = " ".join(rest for word, rest in steps if word in {"COPY", "ADD"})
    assert ".hub" not in copied
    assert "keys" not in copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    # Everything is left out unless named: local state and keys cannot slip in.
    assert "*" in ignored
    assert not any(line.startswith("!.hub") for line in ignored)


def test_the_development_tooling_stays_out() -> None:
    copied = [rest.split()[0] for word, rest in _instructions() if word in {"COPY", "ADD"}]
    assert "hub" in copied  # the runtime goes in, from the same context
    assert not any(source.startswith("hubdev") for source in copied)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("!hubdev") for line in ignored)


def test_the_image_reads_the_policy_it_ships() -> None:
    env = " ".join(rest for word, rest in _final_stage() if word == "ENV")
    copied = [rest for word, rest in _final_stage() if word == "COPY"]
    for setting, path in re.findall(r"(HUB_ROUTING__\w+)=(\S+)", env):
        assert any(path.startswith(rest.split()[-1]) for rest in copied), setting
