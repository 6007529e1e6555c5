"""`hub run` stops when told to, even when its broker was stopped first (`make stop`, then
Ctrl-C): without the bound, aiokafka waited for the broker without end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hubdev.demo.synthetic import mixed_documents
from hubdev.kafka import LocalKafka
from tests.e2e.harness import HubEnv, HubProcess
from tests.support import free_ports

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

STOP_TIMEOUT_S = 2.0


async def test_the_hub_stops_within_its_bound_when_the_broker_went_first(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    broker = LocalKafka(
        work_dir=tmp_path / "kafka",
        port=port,
        controller_port=controller_port,
        heap="256m",
        stop_with_parent=True,
    )
    try:
        await asyncio.to_thread(broker.start, 120)  # it runs an event loop of its own
        env = HubEnv(
            broker.admin_connection(),
            tmp_path / "data",
            overrides={"stop_timeout_s": STOP_TIMEOUT_S},
        )
        await env.create_topics()
        hub = HubProcess(env, tmp_path / "hub.log")
        hub.start()
        await env.publish([d.raw for d in mixed_documents(50, 2, seed=7)])
        broker.stop()
        began = time.monotonic()
        status = hub.stop()
        took = time.monotonic() - began
    finally:
        broker.stop()
    log = hub.log_path.read_text()
    assert "Traceback" not in log
    # 1: stopped by itself, saying what it gave up on; a hang would end in SIGKILL at 30 s.
    assert status == 1, f"exit status {status} after {took:.1f} s:\n{log[-2000:]}"
    assert "hub.stop_abandoned" in log or "hub.stop_incomplete" in log
    assert "hub: stopped without the broker" in log
