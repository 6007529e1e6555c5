"""Helpers for tests that run the broker or the `hub` command for real."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.kafka.connection import KafkaConnection
from hub.settings import KafkaSettings
from hubdev.kafka import LocalKafka

__all__ = [
    "PRODUCTION_KAFKA",
    "NewTopic",
    "RunningKafka",
    "broker_guard",
    "free_ports",
    "hub_environment",
    "process_ends",
    "run_hub",
]

NewTopic = Callable[..., Awaitable[str]]

# The `kafka` settings a production hub must have: SASL_SSL, its principal, a password, a CA.
PRODUCTION_KAFKA = {
    "bootstrap_servers": "kafka-0.example:9093",
    "username": "hub",
    "password": "a production kafka password",
    "ca_file": "/etc/justishub/kafka-ca.pem",
}

_HUB_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class RunningKafka:
    """The session's secured broker, and the admin principal's connection to it.

    Tests act as the admin (a super user) unless they are about access: they make topics and
    groups of their own names, which no policy-derived ACL foresees. The tests of access, the
    end-to-end run on three brokers and `make run` connect as the policy's principals."""

    connection: KafkaConnection
    work_dir: Path
    port: int
    controller_port: int
    brokers: int = 1

    @property
    def bootstrap_servers(self) -> str:
        return self.connection.bootstrap_servers

    def handle(self) -> LocalKafka:
        """Another LocalKafka for the same cluster, as a second `hub kafka` would make one."""
        return LocalKafka(
            work_dir=self.work_dir,
            brokers=self.brokers,
            port=self.port,
            controller_port=self.controller_port,
        )

    def values(self, **overrides: Any) -> dict[str, Any]:
        """The `kafka` group of `HubSettings` for the admin's connection, plus `overrides`."""
        connection = self.connection
        assert connection.password is not None
        return {
            "bootstrap_servers": connection.bootstrap_servers,
            "username": connection.username,
            "password": connection.password.get_secret_value(),
            "ca_file": str(connection.ca_file),
            **overrides,
        }

    def kafka_settings(self, **overrides: Any) -> KafkaSettings:
        return KafkaSettings.model_validate(self.values(**overrides))

    def environ(self) -> dict[str, str]:
        """`HUB_KAFKA__*` variables for a `hub` subprocess connecting as the admin."""
        return {f"HUB_KAFKA__{k.upper()}": str(v) for k, v in self.values().items()}


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports that the OS has just handed out and taken back."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def free_port_runs() -> tuple[int, int]:
    """A client port and a controller port base under which the ports of a local cluster of
    up to three nodes (`port + 2n`, `controller_port + 2n`) are all free."""
    rng = random.Random()  # noqa: S311 -- ports, not secrets
    # Below the ephemeral range: a killed broker's port must still be free when it comes back,
    # not taken as the local end of some client's connection meanwhile.
    top = min(_ephemeral_low(), 60_000) - 12
    for _ in range(200):
        base = rng.randrange(10_000, top, 2)
        if all(_bindable(p) for p in range(base, base + 12)):
            return base, base + 6
    raise RuntimeError("no run of 12 free ports")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_GUARD = """
import sys
from pathlib import Path
from hubdev.kafka import LocalKafka
sys.stdin.read()
LocalKafka(work_dir=Path(sys.argv[1])).stop()
"""


@contextmanager
def broker_guard(work_dir: Path) -> Iterator[None]:
    """Stop the broker of `work_dir` when the block ends, or when this process dies, even by
    SIGKILL: for brokers that `hub kafka up` starts detached, which no finalizer can reach then.

    The guard waits for the end of its stdin, which the kernel closes whatever ends this
    process. It has a session of its own, so that a Ctrl-C at the terminal does not end it first.
    """
    with subprocess.Popen(
        [sys.executable, "-c", _GUARD, str(work_dir)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    ):
        yield
    # Leaving the `with` closed the guard's stdin and waited for it to stop the broker.


def hub_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the person's own HUB_ settings, plus `overrides`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return inherited | dict(overrides)


def run_hub(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the `hub` command as a person would, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=_HUB_TIMEOUT_S,
        check=False,
    )


def process_ends(pid: int, within: float) -> bool:
    """Whether process `pid` is gone within `within` seconds. A zombie counts as gone: whoever
    inherited it (init, or a container's process 1) reaps it in its own time."""
    deadline = time.monotonic() + within
    while _runs(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _runs(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The state follows the command name, which is in parentheses and may itself hold spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"
