"""Fixtures for the whole suite.

`kafka` is one real broker per test session, secured as production is (TLS, SASL/SCRAM-SHA-512,
the StandardAuthorizer), on ports the OS hands out and in a temporary folder, so it never meets a
broker a person is running. It is stopped when the session ends, also after
failures and Ctrl-C (a finalizer), after SIGTERM (turned into Ctrl-C below), and by the kernel
when the test process dies outright (`stop_with_parent`).
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator, Mapping
from types import FrameType

import pytest
import structlog

from hub.kafka import TopicSpec, ensure_topics
from hubdev.kafka import LocalKafka
from tests.support import NewTopic, RunningKafka, free_ports

__all__ = ["kafka", "new_topic"]

_START_TIMEOUT_S = 120.0
_TOPIC_TIMEOUT_S = 30.0


def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest tears fixtures down after Ctrl-C but not after SIGTERM, which CI and timeouts send.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that runs a CLI command configures the logging for it (warnings and worse): put
    back after it, so that whether a later test sees an `info` line never depends on order."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RunningKafka:
    """The session's broker. Its jars come from the checkout's shared libs folder."""
    port, controller_port = free_ports(2)
    broker = LocalKafka(
        work_dir=tmp_path_factory.mktemp("kafka"),
        port=port,
        controller_port=controller_port,
        heap="512m",
        stop_with_parent=True,
    )
    # Before the start, so that a start that fails half-way is cleaned up too.
    request.addfinalizer(broker.stop)  # noqa: PT021 -- a yield's teardown would not run then
    broker.start(timeout=_START_TIMEOUT_S)
    return RunningKafka(broker.admin_connection(), broker.work_dir, port, controller_port)


@pytest.fixture
def new_topic(kafka: RunningKafka) -> NewTopic:
    """`await new_topic(prefix, partitions=..., config=...)`: a topic no other test uses."""

    async def create(
        prefix: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        spec = TopicSpec(name, partitions, config=dict(config or {}))
        await ensure_topics(kafka.connection, [spec], timeout=_TOPIC_TIMEOUT_S)
        return name

    return create
