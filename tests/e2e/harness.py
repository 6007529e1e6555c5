"""End-to-end harness: the hub against the test session's real broker, on topics of its own.

Each test gets a `HubEnv` with unique topic names and consumer-group prefix, so tests never see
each other's records. The hub runs either in the test's event loop (`build_hub`) or as a real
`python -m hub run` subprocess that a test can SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from structlog.testing import capture_logs

from hub.bootstrap import translation_context
from hub.kafka.admin import ensure_topics
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord, Position
from hub.settings import HubSettings
from hub.sources import sources
from hub.tools.publish import publish_documents
from hub.topics import catalogue
from hubdev.children import die_with_parent
from tests.support import free_ports

__all__ = ["HubEnv", "HubProcess", "all_log_lines", "collect", "ingest_only"]


@dataclass
class HubEnv:
    """Settings for one test's hub: its own topics, groups and data folder."""

    connection: KafkaConnection
    data_dir: Path
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    partitions: int = 3
    max_batch_records: int = 500
    # The HTTP server of a `hub run` subprocess: a port of its own, never a person's 8080.
    web_port: int = field(default_factory=lambda: free_ports(1)[0])
    # Nested settings laid over the defaults, e.g. {"routing": {"municipalities_path": ...}}.
    overrides: dict[str, Any] = field(default_factory=dict)

    def _values(self) -> dict[str, Any]:
        """This test's settings, nested as `HubSettings` takes them."""
        s = self.suffix
        topics: dict[str, str] = {
            "in_koda": "in.koda",
            "in_court": "in.court",
            "in_police": "in.police",
            "events": "hub.events",
            "dlq": "hub.dlq",
            "deliveries": "hub.deliveries",
            "consent": "hub.consent",
            "alerts": "hub.alerts",
            "audit": "hub.audit",
            "audit_checkpoints": "hub.audit.checkpoints",
            "parking": "hub.parking",
            "dlq_state": "hub.dlq.state",
        }
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": str(self.data_dir),
            "kafka": {
                **_connection_values(self.connection),
                "group_prefix": f"test-{s}",
                "client_id": f"test-{s}",
                "partitions": self.partitions,
                "max_batch_records": self.max_batch_records,
            },
            "topics": {
                **{name: f"{base}.{s}" for name, base in topics.items()},
                "recipient_prefix": f"t{s}.",
            },
            "routing": {"deadline_check_every_s": 0.5, "topic_discovery_ms": 1000},
            # Frequent checkpoints, so a test sees several within seconds.
            "audit": {"checkpoint_every_records": 500, "checkpoint_every_s": 2.0},
            "web": {"port": self.web_port},
        }
        return _merged(values, self.overrides)

    def settings(self) -> HubSettings:
        return HubSettings.model_validate(self._values())

    def topic(self, name: str) -> str:
        """A recipient topic the policy names (`out.nav.v1`), as this test's hub calls it."""
        return f"t{self.suffix}.{name}"

    def environ(self) -> dict[str, str]:
        """The same settings as environment variables, for a `hub` subprocess."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        return {**inherited, **_flatten("HUB_", self._values()), "HUB_LOG_FORMAT": "json"}

    async def create_topics(self) -> None:
        settings = self.settings()
        await ensure_topics(settings.kafka_connection(), catalogue(settings), timeout=30)

    async def publish(self, documents: Sequence[bytes], source: str = "koda") -> list[Position]:
        settings = self.settings()
        src = sources(settings)[source]
        context = translation_context(settings)
        return await publish_documents(
            settings, src, documents, context, content_type=src.content_type
        )


def _connection_values(connection: KafkaConnection) -> dict[str, Any]:
    assert connection.password is not None
    return {
        "bootstrap_servers": connection.bootstrap_servers,
        "username": connection.username,
        "password": connection.password.get_secret_value(),
        "ca_file": str(connection.ca_file),
    }


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in over.items():
        both_dicts = isinstance(value, dict) and isinstance(merged.get(name), dict)
        merged[name] = _merged(merged[name], value) if both_dicts else value
    return merged


def _flatten(prefix: str, values: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in values.items():
        key = f"{prefix}{name.upper()}"
        if isinstance(value, dict):
            flat.update(_flatten(f"{key}__", value))
        else:
            flat[key] = str(value)
    return flat


async def collect(
    connection: KafkaConnection,
    topic: str,
    *,
    until: Callable[[list[InboundRecord]], bool],
    timeout_s: float = 60.0,
) -> list[InboundRecord]:
    """Read `topic` from the beginning, again and again, until `until(records)` or the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = [r async for r in read_topic(connection, topic)]
        if until(records) or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.5)


@contextmanager
def all_log_lines() -> Iterator[list[dict[str, Any]]]:
    """Every log line, whatever level an earlier test configured the logging for."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            yield logs
    finally:
        structlog.configure(**saved)


def ingest_only(dead_letters: list[InboundRecord]) -> list[InboundRecord]:
    """The dead-letter entries of the ingest stage (the recipient stages add their own)."""
    return [r for r in dead_letters if r.header("hub-dlq-stage") == "ingest"]


class HubProcess:
    """`python -m hub run` as a child process, its output in a log file."""

    def __init__(self, env: HubEnv, log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the process (again, after `kill` or `stop`) and wait for its `hub.started`."""
        log = self.log_path.open("ab")
        seen = log.tell()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"],
            env=self.env.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            # A test or chaos run that crashes leaves no hub behind to use the cores and retry
            # brokers that are gone through every later run.
            preexec_fn=die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while b"hub.started" not in self.log_path.read_bytes()[seen:]:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hub did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def exited_on_its_own(self) -> bool:
        """Started, and no longer running though nobody stopped it."""
        return self._proc is not None and self._proc.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no last commit, exactly like a crash."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=30)

    def stop(self) -> int:
        if self._proc is None or self._proc.poll() is not None:
            return self._proc.returncode if self._proc else 0
        self._proc.send_signal(signal.SIGTERM)
        try:
            return self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return self._proc.wait(timeout=30)
