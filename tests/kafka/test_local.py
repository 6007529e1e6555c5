"""LocalKafka itself: status, idempotent start, the ready check, jars, and clean-up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.kafka.connection import KafkaConnection
from hubdev.kafka import LocalKafka, LocalKafkaError, wait_until_ready
from schemas.errors import Reason, TransientError
from tests.support import RunningKafka, free_ports, process_ends

__all__: list[str] = []

_CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.mark.kafka
def test_status_of_the_running_broker(kafka: RunningKafka) -> None:
    status = kafka.handle().status()
    assert status.running
    assert status.pid is not None
    assert status.address == kafka.bootstrap_servers
    assert status.data_dir == kafka.work_dir / "node-1" / "data"
    assert (status.data_dir / "meta.properties").exists()


@pytest.mark.kafka
def test_the_broker_is_found_without_its_pid_file(kafka: RunningKafka) -> None:
    pid_file = kafka.work_dir / "node-1" / "kafka.pid"
    recorded = pid_file.read_text()
    pid_file.unlink()
    try:
        status = kafka.handle().status()
    finally:
        pid_file.write_text(recorded)
    assert status.running
    assert status.pid == int(recorded)


@pytest.mark.kafka
def test_second_up_leaves_the_running_broker_alone(kafka: RunningKafka) -> None:
    before = kafka.handle().status()
    result = kafka.handle().up(timeout=5)
    assert result.started == ()
    assert result.status == before


@pytest.mark.kafka
def test_start_when_running_is_an_error(kafka: RunningKafka) -> None:
    with pytest.raises(LocalKafkaError, match="running already"):
        kafka.handle().start(timeout=5)


@pytest.mark.kafka
async def test_wait_until_ready_returns_for_a_running_broker(kafka: RunningKafka) -> None:
    await wait_until_ready(kafka.connection, timeout=10)


async def test_wait_until_ready_gives_up_on_a_closed_port() -> None:
    (port,) = free_ports(1)
    began = time.monotonic()
    with pytest.raises(TransientError) as caught:
        await wait_until_ready(KafkaConnection(f"127.0.0.1:{port}"), timeout=0.5)
    assert caught.value.reason is Reason.TIMEOUT
    assert time.monotonic() - began < 3


def test_a_stale_pid_file_names_no_broker(tmp_path: Path) -> None:
    # A live process that is not our broker, like a pid reused after a reboot.
    (tmp_path / "node-1").mkdir()
    (tmp_path / "node-1" / "kafka.pid").write_text(f"{os.getpid()}\n")
    broker = LocalKafka(work_dir=tmp_path)
    assert not broker.status().running
    assert broker.stop() is None
    assert not (tmp_path / "node-1" / "kafka.pid").exists()


@pytest.mark.kafka
def test_a_broker_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    broker = LocalKafka(work_dir=tmp_path, port=port, controller_port=controller_port, heap="1x")
    with pytest.raises(LocalKafkaError) as caught:
        broker.start(timeout=60)
    message = str(caught.value)
    assert message.startswith(
        "broker_start_failed: kafka node 1 exited with status 1 while starting:"
    )
    assert "Invalid maximum heap size: -Xmx1x" in message
    assert "\n" not in message
    assert not (tmp_path / "node-1" / "kafka.pid").exists()


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalKafkaError) as caught:
        LocalKafka(libs_dir=tmp_path / "libs", work_dir=tmp_path).ensure_jars()
    assert caught.value.reason is Reason.TOOL_UNAVAILABLE
    assert "mvn not found on PATH" in str(caught.value)


@pytest.mark.slow
def test_jars_are_copied_again_only_when_the_pom_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = shutil.copytree(_CHECKOUT / "deploy" / "kafka", tmp_path / "deploy")
    libs = tmp_path / "libs"
    LocalKafka(pom_path=deploy / "pom.xml", libs_dir=libs, work_dir=tmp_path).ensure_jars()
    assert any(libs.glob("kafka_2.13-*.jar"))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".libs-")]

    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    # Without Maven on PATH, this only passes if it does not try to run it.
    LocalKafka(pom_path=deploy / "pom.xml", libs_dir=libs, work_dir=tmp_path).ensure_jars()

    pom = deploy / "pom.xml"
    pom.write_text(pom.read_text() + "<!-- changed -->\n")
    with pytest.raises(LocalKafkaError, match="mvn not found"):
        LocalKafka(pom_path=pom, libs_dir=libs, work_dir=tmp_path).ensure_jars()


_HOLD_A_BROKER = """
import sys
from pathlib import Path
from hubdev.kafka import LocalKafka
broker = LocalKafka(work_dir=Path(sys.argv[1]), port=int(sys.argv[2]),
                    controller_port=int(sys.argv[3]), heap="256m", stop_with_parent=True)
print(broker.start(timeout=120).pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.kafka
@pytest.mark.slow
def test_no_broker_outlives_a_killed_test_process(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    try:
        with subprocess.Popen(
            [sys.executable, "-c", _HOLD_A_BROKER, str(tmp_path), str(port), str(controller_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            assert holder.stdout is not None
            broker_pid = int(holder.stdout.readline())
            holder.send_signal(signal.SIGKILL)
        assert process_ends(broker_pid, within=30)
    finally:
        LocalKafka(work_dir=tmp_path, port=port, controller_port=controller_port).stop()
