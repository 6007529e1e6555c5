"""`hub kafka up | down | status`, run as a person runs them: in a process of their own.

These start a second broker, apart from the session's, in a temporary data folder on free ports.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import broker_guard, free_ports, hub_environment, process_ends, run_hub

__all__: list[str] = []


@pytest.fixture
def hub_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for a `hub kafka` of this test only; its broker is stopped whatever happens."""
    port, controller_port = free_ports(2)
    data_dir = tmp_path / "hub"
    with broker_guard(data_dir / "kafka"):
        yield hub_environment(
            {
                "HUB_DATA_DIR": str(data_dir),
                "HUB_LOCAL_KAFKA__PORT": str(port),
                "HUB_LOCAL_KAFKA__CONTROLLER_PORT": str(controller_port),
                "HUB_LOCAL_KAFKA__HEAP": "512m",
            }
        )


def assert_one_error_line(result: object, starts: str) -> None:
    assert getattr(result, "returncode", None) == 2
    stderr: str = getattr(result, "stderr", "")
    assert stderr.startswith(f"hub: error: {starts}"), stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


@pytest.mark.kafka
def test_up_status_down(hub_env: dict[str, str]) -> None:
    address = f"127.0.0.1:{hub_env['HUB_LOCAL_KAFKA__PORT']}"

    started = run_hub("kafka", "up", env=hub_env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith(f"kafka: node 1 started at {address} (pid ")
    pid = int(started.stdout.split("(pid ")[1].split(")")[0])
    assert "TLS and SCRAM-SHA-512" in started.stdout

    again = run_hub("kafka", "up", env=hub_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"kafka: node 1 already running at {address} (pid {pid})")

    status = run_hub("kafka", "status", env=hub_env)
    assert status.returncode == 0
    assert status.stdout.splitlines()[1].split() == [
        "1",
        address,
        str(pid),
        "broker,controller",
        "up",
    ]

    stopped = run_hub("kafka", "down", env=hub_env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == "kafka: stopped\n"
    assert process_ends(pid, within=5)

    down = run_hub("kafka", "status", env=hub_env)
    assert down.returncode == 1
    assert down.stdout.splitlines()[1].split()[-1] == "down"


def test_down_when_not_running(hub_env: dict[str, str]) -> None:
    result = run_hub("kafka", "down", env=hub_env)
    assert result.returncode == 0
    assert result.stdout == "kafka: not running\n"


def test_status_when_not_running(hub_env: dict[str, str]) -> None:
    result = run_hub("kafka", "status", env=hub_env)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].split()[1:] == [
        f"127.0.0.1:{hub_env['HUB_LOCAL_KAFKA__PORT']}",
        "-",
        "broker,controller",
        "down",
    ]


@pytest.mark.parametrize("setting", ["PORT", "CONTROLLER_PORT"])
def test_port_taken_by_a_foreign_listener(hub_env: dict[str, str], setting: str) -> None:
    port = int(hub_env[f"HUB_LOCAL_KAFKA__{setting}"])
    with socket.create_server(("127.0.0.1", port)):
        result = run_hub("kafka", "up", env=hub_env)
    assert_one_error_line(result, f"port_in_use: {setting.lower().replace('_', ' ')} {port} ")
    assert result.stdout == ""


def test_java_missing_from_path(hub_env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_hub("kafka", "up", env=hub_env | {"PATH": str(empty)})
    assert_one_error_line(result, "tool_unavailable: java not found on PATH")


def test_java_older_than_17(hub_env: dict[str, str], tmp_path: Path) -> None:
    bin_dir = tmp_path / "old-java"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    java.chmod(0o755)
    result = run_hub("kafka", "up", env=hub_env | {"PATH": str(bin_dir)})
    assert_one_error_line(result, "tool_unavailable: Kafka needs Java 17 or newer")
    assert "is Java 11" in result.stderr


@pytest.mark.parametrize("command", [[], ["up"], ["down"], ["status"], ["credentials"]])
def test_help(hub_env: dict[str, str], command: list[str]) -> None:
    result = run_hub("kafka", *command, "--help", env=hub_env)
    assert result.returncode == 0
    assert "Usage: " in result.stdout
