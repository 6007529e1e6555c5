"""End-to-end harness: the hub against the test session's real broker, on topics of its own.

Each test gets a `HubEnv` with unique topic names and consumer-group prefix, so tests never see
each other's records. The hub runs either in the test's event loop (`build_hub`) or as a real
`python -m hub run` subprocess that a test can SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hub.bootstrap import translation_context
from hub.kafka.admin import ensure_topics
from hub.kafka.reader import read_topic
from hub.pipeline.records import InboundRecord, Position
from hub.settings import (
    AuditSettings,
    Environment,
    HubSettings,
    KafkaSettings,
    RoutingSettings,
    TopicSettings,
    WebSettings,
)
from hub.sources import sources
from hub.tools.publish import publish_documents
from hub.topics import catalogue
from tests.support import free_ports

__all__ = ["HubEnv", "HubProcess", "collect", "ingest_only"]


@dataclass
class HubEnv:
    """Settings for one test's hub: its own topics, groups and data folder."""

    bootstrap_servers: str
    data_dir: Path
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    partitions: int = 3
    max_batch_records: int = 500
    # The HTTP server of a `hub run` subprocess: a port of its own, never a person's 8080.
    web_port: int = field(default_factory=lambda: free_ports(1)[0])

    def _values(self) -> dict[str, str]:
        s = self.suffix
        return {
            "HUB_ENV": "test",
            "HUB_DATA_DIR": str(self.data_dir),
            "HUB_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "HUB_KAFKA__GROUP_PREFIX": f"test-{s}",
            "HUB_KAFKA__CLIENT_ID": f"test-{s}",
            "HUB_KAFKA__PARTITIONS": str(self.partitions),
            "HUB_KAFKA__MAX_BATCH_RECORDS": str(self.max_batch_records),
            "HUB_TOPICS__IN_KODA": f"in.koda.{s}",
            "HUB_TOPICS__IN_COURT": f"in.court.{s}",
            "HUB_TOPICS__IN_POLICE": f"in.police.{s}",
            "HUB_TOPICS__EVENTS": f"hub.events.{s}",
            "HUB_TOPICS__DLQ": f"hub.dlq.{s}",
            "HUB_TOPICS__DELIVERIES": f"hub.deliveries.{s}",
            "HUB_TOPICS__ALERTS": f"hub.alerts.{s}",
            "HUB_TOPICS__RECIPIENT_PREFIX": f"t{s}.",
            "HUB_ROUTING__DEADLINE_CHECK_EVERY_S": "0.5",
            "HUB_ROUTING__TOPIC_DISCOVERY_MS": "1000",
            "HUB_TOPICS__AUDIT": f"hub.audit.{s}",
            "HUB_TOPICS__AUDIT_CHECKPOINTS": f"hub.audit.checkpoints.{s}",
            # Frequent checkpoints, so a test sees several within seconds.
            "HUB_AUDIT__CHECKPOINT_EVERY_RECORDS": "500",
            "HUB_AUDIT__CHECKPOINT_EVERY_S": "2",
            "HUB_WEB__PORT": str(self.web_port),
        }

    def settings(self) -> HubSettings:
        v = self._values()
        return HubSettings(
            env=Environment.TEST,
            data_dir=self.data_dir,
            kafka=KafkaSettings(
                bootstrap_servers=self.bootstrap_servers,
                group_prefix=v["HUB_KAFKA__GROUP_PREFIX"],
                client_id=v["HUB_KAFKA__CLIENT_ID"],
                partitions=self.partitions,
                max_batch_records=self.max_batch_records,
            ),
            topics=TopicSettings(
                in_koda=v["HUB_TOPICS__IN_KODA"],
                in_court=v["HUB_TOPICS__IN_COURT"],
                in_police=v["HUB_TOPICS__IN_POLICE"],
                events=v["HUB_TOPICS__EVENTS"],
                dlq=v["HUB_TOPICS__DLQ"],
                deliveries=v["HUB_TOPICS__DELIVERIES"],
                alerts=v["HUB_TOPICS__ALERTS"],
                recipient_prefix=v["HUB_TOPICS__RECIPIENT_PREFIX"],
                audit=v["HUB_TOPICS__AUDIT"],
                audit_checkpoints=v["HUB_TOPICS__AUDIT_CHECKPOINTS"],
            ),
            audit=AuditSettings(
                checkpoint_every_records=int(v["HUB_AUDIT__CHECKPOINT_EVERY_RECORDS"]),
                checkpoint_every_s=float(v["HUB_AUDIT__CHECKPOINT_EVERY_S"]),
            ),
            routing=RoutingSettings(deadline_check_every_s=0.5, topic_discovery_ms=1000),
            web=WebSettings(port=self.web_port),
        )

    def topic(self, name: str) -> str:
        """A recipient topic the policy names (`out.nav.v1`), as this test's hub calls it."""
        return f"t{self.suffix}.{name}"

    def environ(self) -> dict[str, str]:
        """The same settings as environment variables, for a `hub` subprocess."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        return {**inherited, **self._values(), "HUB_LOG_FORMAT": "json"}

    async def create_topics(self) -> None:
        settings = self.settings()
        await ensure_topics(settings.kafka.bootstrap_servers, catalogue(settings), timeout=30)

    async def publish(self, documents: Sequence[bytes], source: str = "koda") -> list[Position]:
        settings = self.settings()
        src = sources(settings)[source]
        context = translation_context(settings)
        return await publish_documents(
            settings, src, documents, context, content_type=src.content_type
        )


async def collect(
    bootstrap_servers: str,
    topic: str,
    *,
    until: Callable[[list[InboundRecord]], bool],
    timeout_s: float = 60.0,
) -> list[InboundRecord]:
    """Read `topic` from the beginning, again and again, until `until(records)` or the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = [r async for r in read_topic(bootstrap_servers, topic)]
        if until(records) or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.5)


def ingest_only(dead_letters: list[InboundRecord]) -> list[InboundRecord]:
    """The dead-letter entries of the ingest stage (the recipient stages add their own)."""
    return [r for r in dead_letters if r.header("hub-dlq-stage") == "ingest"]


class HubProcess:
    """`python -m hub run` as a child process, its output in a log file."""

    def __init__(self, env: HubEnv, log_path: Path) -> None:
        self._env = env
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"],
            env=self._env.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while b"hub.started" not in self.log_path.read_bytes():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hub did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

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
